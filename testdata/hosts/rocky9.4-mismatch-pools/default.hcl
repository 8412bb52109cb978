# rocky9.4-mismatch-pools: the defaults (packaging auto, running kernel, import cache, zed, mount).
