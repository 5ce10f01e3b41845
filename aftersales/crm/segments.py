"""RFM segmentation (being written)."""


def segments_recompute(**kwargs):
    return {}
