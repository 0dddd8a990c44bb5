package verify

import (
	"context"
	"sync"
	"testing"
	"time"

	"lightbox/backend/ul"
)

// TestHundredConcurrentEchoSCU: 100 of our own SCUs at once (no process
// start-up cost): all succeed quickly with the default policy.
func TestHundredConcurrentEchoSCU(t *testing.T) {
	_, addr := startSCP(t, func(p *ul.Policy) { p.MaxAssociations = 0; p.Timeouts = ul.Timeouts{} })
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := Echo(context.Background(), Target{CallingAE: "GO", CalledAE: "LIGHTBOX", Addr: addr}, Options{Timeout: 20 * time.Second}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("100 concurrent echoes in %v", time.Since(start))
}
