# The defaults: packaging auto.
