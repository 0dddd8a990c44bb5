package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"lightbox/backend/verify"
)

func runEcho(args []string) int {
	fs := newFlags("echo")
	aet := fs.String("aet", "LIGHTBOX", "our (calling) AE title")
	aec := fs.String("aec", "ANY-SCP", "their (called) AE title")
	timeout := fs.Float64("timeout", 10, "seconds for the whole exchange")
	pos, err := parseArgs(fs, args)
	if err != nil || len(pos) != 2 {
		fs.Usage()
		return 2
	}
	if _, err := strconv.Atoi(pos[1]); err != nil {
		return fail("port %q is not a number", pos[1])
	}
	addr := net.JoinHostPort(pos[0], pos[1])
	rtt, st, err := verify.Echo(context.Background(), verify.Target{CallingAE: *aet, CalledAE: *aec, Addr: addr},
		verify.Options{Timeout: time.Duration(*timeout * float64(time.Second))})
	if err != nil {
		return fail("C-ECHO %s at %s failed: %v", *aec, addr, err)
	}
	if !st.OK() {
		return fail("C-ECHO %s at %s answered %s", *aec, addr, st)
	}
	fmt.Printf("C-ECHO %s at %s: success (%s) in %.1f ms\n", *aec, addr, st, float64(rtt.Microseconds())/1000)
	return 0
}
