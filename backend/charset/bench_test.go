package charset

import "testing"

func BenchmarkDecode(b *testing.B) {
	cases := []struct {
		name string
		scs  []string
		raw  string
	}{
		{"ISO2022-IR87", []string{"", "ISO 2022 IR 87"}, "Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B"},
		{"ISO_IR100", []string{"ISO_IR 100"}, "Buc^J\xe9r\xf4me"},
		{"GB18030", []string{"GB18030"}, "Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab="},
		{"UTF-8", []string{"ISO_IR 192"}, "Wang^XiaoDong=\xe7\x8e\x8b^\xe5\xb0\x8f\xe6\x9d\xb1="},
	}
	for _, c := range cases {
		d := NewDecoder(c.scs)
		raw := []byte(c.raw)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				d.Decode("PN", raw)
			}
		})
	}
}

func BenchmarkMatchPN(b *testing.B) {
	for b.Loop() {
		MatchPN("*たろう", "Yamada^Tarou=山田^太郎=やまだ^たろう")
	}
}
