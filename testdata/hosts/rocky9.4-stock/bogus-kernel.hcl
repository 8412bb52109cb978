# A --kernel that is not installed: refused before anything, naming the installed kernels.
