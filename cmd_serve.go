package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"lightbox/app"
	"lightbox/backend/nodes"
)

func runServe(args []string) int {
	fs := newFlags("serve")
	data := dataFlag(fs)
	addr := fs.String("http", "127.0.0.1:8080", "HTTP address of the UI and API")
	aet := fs.String("aet", "", "AE title of the DICOM listener (default: the stored setting, LIGHTBOX)")
	port := fs.Int("port", 0, "TCP port of the DICOM listener (default: the stored setting, 11112)")
	token := fs.String("token", os.Getenv("LIGHTBOX_TOKEN"), "access token; required when --http is not a loopback address")
	noDICOM := fs.Bool("no-dicom", false, "do not start the DICOM listener")
	if _, err := parseArgs(fs, args); err != nil {
		return 2
	}
	if err := checkExposure(*addr, *token); err != nil {
		return fail("%v", err)
	}
	if *aet != "" {
		if err := nodes.ValidateAETitle(*aet); err != nil {
			return fail("--aet: %v", err)
		}
	}
	a, err := app.Open(app.Config{DataDir: *data, Mode: "web", AETitle: *aet, Port: *port})
	if err != nil {
		return fail("%v", err)
	}
	defer app.Shutdown(a)
	broker := app.NewBroker()
	app.SetEmitter(a, broker)
	if !*noDICOM {
		if err := app.StartDICOM(a); err != nil {
			return fail("%v", err)
		}
	}
	defer app.MarkServing(a)()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fail("HTTP: %v", err)
	}
	srv := &http.Server{Handler: app.WebHandler(a, frontendFS(), broker, *token), ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String() + "/"
	if *token != "" {
		url += "?token=" + *token
	}
	fmt.Fprintf(os.Stderr, "lightbox: serving %s (data %s)\n", url, a.Version().DataDir)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fail("HTTP: %v", err)
	}
	return 0
}

// checkExposure refuses a non-loopback HTTP address without a token.
func checkExposure(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--http %q: %v", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	if token == "" {
		return fmt.Errorf("--http %s is reachable from other machines: patient data would be exposed without a password. "+
			"Give an access token with --token (or $LIGHTBOX_TOKEN), or bind to 127.0.0.1", addr)
	}
	if len(token) < 16 {
		return errors.New("--token must have at least 16 characters")
	}
	return nil
}
