# rocky9.6-stock-no-kmod: the defaults (packaging auto, running kernel, import cache, zed, mount).
