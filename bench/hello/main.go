// Command hello is make bench's start-up floor: the least a Go program can do, built with the
// same Go toolchain as zfsinstall, to set beside `zfsinstall recipes`.
package main

import "fmt"

func main() {
	fmt.Println("hello, world")
}
