package charset

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MatchText reports whether s matches the DICOM wildcard pattern: '*'
// matches any run of characters (also none), '?' exactly one character,
// and every other character itself, ignoring case (Unicode simple case
// folding, so "ΣΟΦΙΑ" matches "σοφια" and "ПЁТР" matches "пётр") but not
// accents ("Jerome" does not match "Jérôme"). Both sides are NFC
// normalised first. An empty pattern matches everything (universal
// matching).
func MatchText(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	return wildcard(fold(pattern), fold(s))
}

// MatchPN reports whether the decoded person name matches pattern. A
// pattern without '=' matches when it matches the whole name or any one
// component group (alphabetic, ideographic, phonetic); so "山田*" matches
// "Yamada^Tarou=山田^太郎=やまだ^たろう". A pattern with '=' is matched group
// by group, an empty pattern group matching anything. Trailing empty
// components and groups are ignored on both sides; case is ignored as in
// MatchText. An empty pattern matches everything.
func MatchPN(pattern, name string) bool {
	pattern = trimPN(strings.TrimRight(pattern, " "))
	if pattern == "" {
		return true
	}
	name = trimPN(strings.TrimRight(name, " "))
	p, n := fold(pattern), fold(name)
	groups := strings.Split(string(n), "=")
	if !strings.Contains(pattern, "=") {
		if wildcard(p, n) {
			return true
		}
		if len(groups) == 1 {
			return false
		}
		for _, g := range groups {
			if wildcard(p, []rune(g)) {
				return true
			}
		}
		return false
	}
	for i, pg := range strings.Split(string(p), "=") {
		if pg == "" {
			continue
		}
		ng := ""
		if i < len(groups) {
			ng = groups[i]
		}
		if !wildcard([]rune(pg), []rune(ng)) {
			return false
		}
	}
	return true
}

// fold returns s in NFC with every rune replaced by the smallest rune of
// its simple case folding orbit.
func fold(s string) []rune {
	rs := []rune(norm.NFC.String(s))
	for i, r := range rs {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < m {
				m = f
			}
		}
		rs[i] = m
	}
	return rs
}

// wildcard matches with '*' and '?' by the usual greedy scan that goes back
// to the last '*' on a mismatch: O(len(p)*len(s)) at worst.
func wildcard(p, s []rune) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
