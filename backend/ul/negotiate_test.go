package ul

import (
	"testing"

	"lightbox/backend/pdu"
)

const (
	explicitBE = "1.2.840.10008.1.2.2"
	jpegLS     = "1.2.840.10008.1.2.4.80"
	deflated   = "1.2.840.10008.1.2.1.99"
)

// TestNegotiateTransferSyntaxOrder: by default the first of our transfer
// syntaxes that the requestor proposed wins; with RequestorOrder, the
// first the requestor proposed that we accept.
func TestNegotiateTransferSyntaxOrder(t *testing.T) {
	ours := []string{jpegLS, explicitLE, implicitLE}
	for _, tc := range []struct {
		name      string
		requestor bool
		proposed  []string
		want      string // "" = transfer syntaxes not supported
	}{
		{"our order", false, []string{implicitLE, explicitLE, jpegLS}, jpegLS},
		{"requestor order", true, []string{implicitLE, explicitLE, jpegLS}, implicitLE},
		{"requestor order skips what we refuse", true, []string{deflated, explicitBE, explicitLE, jpegLS}, explicitLE},
		{"our order skips what was not proposed", false, []string{deflated, implicitLE}, implicitLE},
		{"one in common", true, []string{explicitBE, jpegLS}, jpegLS},
		{"none in common, our order", false, []string{deflated, explicitBE}, ""},
		{"none in common, requestor order", true, []string{deflated, explicitBE}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol := basicPolicy()
			pol.Syntaxes[ctImage] = SyntaxPolicy{TransferSyntaxes: ours, RequestorOrder: tc.requestor}
			rq := echoRQ("LIGHTBOX")
			rq.Contexts = []pdu.PresentationContextRQ{
				{ID: 1, AbstractSyntax: verification, TransferSyntaxes: []string{implicitLE, explicitLE}},
				{ID: 3, AbstractSyntax: ctImage, TransferSyntaxes: tc.proposed},
			}
			ac, rj := Negotiate(&pol, rq)
			if rj != nil {
				t.Fatalf("rejected: %v", rj)
			}
			// the verification context keeps our order in every case
			if got := ac.Contexts[0]; got.Result != pdu.ContextAccepted || got.TransferSyntax != explicitLE {
				t.Fatalf("verification context %+v", got)
			}
			got := ac.Contexts[1]
			if tc.want == "" {
				if got.Result != pdu.ContextTransferSyntaxesNotSupported {
					t.Fatalf("got %+v, want transfer syntaxes not supported", got)
				}
				return
			}
			if got.Result != pdu.ContextAccepted || got.TransferSyntax != tc.want {
				t.Fatalf("got %+v, want %s accepted", got, tc.want)
			}
		})
	}
}
