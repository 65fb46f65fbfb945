# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
