# The defaults.
