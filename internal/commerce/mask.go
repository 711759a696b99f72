package commerce

import "strings"

// maskName keeps the first rune: "张三丰" → "张**".
func maskName(s string) string {
	r := []rune(s)
	if len(r) <= 1 {
		return s
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}

// maskPhone keeps the first three and last four digits: 138****5678.
func maskPhone(s string) string {
	r := []rune(s)
	if len(r) < 8 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}

// maskEmail keeps the first character of the local part and the domain.
func maskEmail(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return maskName(s)
	}
	local := []rune(s[:at])
	return string(local[0]) + "***" + s[at:]
}
