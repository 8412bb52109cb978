kernel {
  devel = 1
}

services {
  zed = "yes"
}
