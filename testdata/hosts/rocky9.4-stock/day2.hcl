# Day-2 extras: verify at first boot (kickstart hosts) and the kernel-update guard.
services {
  verify_on_boot = true
}
guard {
  enabled = true
}
