# rocky9.3-elrepo-lt-6.1: the defaults (packaging auto, running kernel, import cache, zed, mount).
