# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Named random streams: one user seed, independent draws per purpose.

Every random draw in xaijax.data comes from `np.random.default_rng(key)`
whose key is the user's seed plus one of the constants below (and, where
needed, an epoch or an image index). The constant is what keeps two uses
of the same seed apart: without it the test hold-out, the validation
hold-out, the fold assignment and the `limit` subsample of `data.seed=0`
would all start from the same random numbers and pick correlated groups,
and an epoch's permutation would share its numbers with an augmentation
draw. The values are arbitrary, distinct, and spelled in hex so that they
read as their purpose (0x7E57 "TEST"); they are not secrets. They must
never change: they fix which image is in which split of every existing run,
which a resumed run checks (`data_splits.json`).
"""

# Seeded partitions: key [seed, PARTITION, one of the four below].
PARTITION = 0x5B117  # "SPLIT"
TEST = 0x7E57  # "TEST": the test hold-out of a layout without a test split
VAL = 0x7A1  # "VAL": the validation hold-out
FOLD = 0xF01D  # "FOLD": the k-fold assignment
LIMIT = 0x1171  # "LIMIT": the `data.limit` subsample of each split

# The training stream: key [seed, EPOCH, epoch] and [seed, AUGMENT, epoch, i].
EPOCH = 0xE90C  # "EPOCH": the permutation of each epoch
AUGMENT = 0xA06  # "AUG": one image's augmentation in one epoch

# The synthetic set: key [synthetic seed, LABELS] and, for image i,
# [synthetic seed, i, IMAGE] (index before the constant: that order is what
# existing runs were made with).
LABELS = 0x1ABE1  # "LABEL": the balanced label order
IMAGE = 0x5EED  # "SEED": image i's background, lesion and noise
