package charset

import "testing"

func TestMatchText(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "anything", true},
		{"*", "", true},
		{"CT*", "ct chest", true},
		{"ct?chest", "CT CHEST", true},
		{"ct?chest", "CT  CHEST", false},
		{"*chest*", "CT CHEST W/O", true},
		{"*ЧЕСТ*", "грудная клетка", false},
		{"ИВАНОВ*", "иванов^пётр", true},
		{"иванов^пётр", "ИВАНОВ^ПЁТР", true},
		{"иванов^петр", "ИВАНОВ^ПЁТР", false}, // ё is not е
		{"ΔΙΟΝΥΣΙΟΣ", "Διονυσιος", true},      // final sigma folds
		{"jerome", "Jérôme", false},           // accent-sensitive
		{"JÉRÔME", "jérôme", true},
		{"Je\u0301ro\u0302me", "Jérôme", true}, // NFD pattern, NFC name
		{"ＡＢＣ", "ａｂｃ", true},                   // full-width Latin folds
		{"?", "王", true},
		{"??", "王", false},
		{"王*", "王^小東", true},
		{"*東", "王^小東", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbYd", false},
		{"a**c", "ac", true},
		{"*a", "bbb", false},
	}
	for _, tc := range tests {
		if got := MatchText(tc.pattern, tc.s); got != tc.want {
			t.Errorf("MatchText(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestMatchPN(t *testing.T) {
	const jp = "Yamada^Tarou=山田^太郎=やまだ^たろう"
	const kr = "Hong^Gildong=洪^吉洞=홍^길동"
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"", jp, true},
		{"yamada*", jp, true},      // whole name, alphabetic group first
		{"YAMADA^TAROU", jp, true}, // alphabetic group alone
		{"山田*", jp, true},          // ideographic group
		{"山田^太郎", jp, true},        // ideographic group exactly
		{"やまだ*", jp, true},         // phonetic group
		{"*たろう", jp, true},         // phonetic group suffix
		{"*太郎*", jp, true},         // inside the whole name
		{"田中*", jp, false},
		{"=山田*", jp, true},         // group-wise: ideographic
		{"=山田*=やま*", jp, true},     // two groups
		{"Yamada*=田中*", jp, false}, // second group fails
		{"==やまだ^たろう", jp, true},    // phonetic only
		{"홍*", kr, true},
		{"HONG^GILDONG", kr, true},
		{"hong^gildong^^", kr, true}, // trailing empty components ignored
		{"Hong^Gildong=", kr, true},  // trailing empty group ignored
		{"hong", kr, false},          // no wildcard: whole group must match
		{"buc^j*", "Buc^Jérôme", true},
		{"buc^jerome", "Buc^Jérôme", false},
		{"ИВАНОВ^*", "Иванов^Пётр", true},
		{"Doe^John", "Doe^John^^^", true},
		{"Doe", "", false},
	}
	for _, tc := range tests {
		if got := MatchPN(tc.pattern, tc.name); got != tc.want {
			t.Errorf("MatchPN(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}
