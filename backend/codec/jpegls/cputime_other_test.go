//go:build !linux

package jpegls

import "time"

// threadCPU falls back to wall time where thread CPU time is not at hand.
func threadCPU() time.Duration { return time.Duration(time.Now().UnixNano()) }

func lockThread() func() { return func() {} }
