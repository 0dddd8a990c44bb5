package charset_test

import (
	"fmt"

	"lightbox/backend/charset"
)

func ExampleDecoder() {
	// (0008,0005) = "\ISO 2022 IR 87" and a PN of PS3.5 Annex H.
	d := charset.NewDecoder([]string{"", "ISO 2022 IR 87"})
	name, substituted := d.Decode("PN", []byte("Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B"))
	fmt.Println(name, substituted)

	// No (0008,0005): the node's fallback applies.
	d = charset.NewDecoder(nil, charset.WithFallback("ISO_IR 144"))
	name, _ = d.Decode("PN", []byte("\xb8\xd2\xd0\xdd\xde\xd2^\xbf\xf1\xe2\xe0 "))
	fmt.Println(name, d.Assumed())
	// Output:
	// Yamada^Tarou=山田^太郎=やまだ^たろう false
	// Иванов^Пётр true
}

func ExampleEncode() {
	raw, scs, err := charset.Encode("ISO 2022 IR 149", "홍^길*")
	fmt.Printf("% x\n%s %v\n", raw, scs, err)
	// Output:
	// 1b 24 29 43 c8 ab 5e 1b 24 29 43 b1 e6 2a
	// \ISO 2022 IR 149 <nil>
}

func ExampleMatchPN() {
	name := "Yamada^Tarou=山田^太郎=やまだ^たろう"
	fmt.Println(charset.MatchPN("yamada*", name), charset.MatchPN("山田*", name), charset.MatchPN("田中*", name))
	// Output:
	// true true false
}
