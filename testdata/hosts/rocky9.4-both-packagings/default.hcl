# rocky9.4-both-packagings: the defaults (packaging auto, running kernel, import cache, zed, mount).
