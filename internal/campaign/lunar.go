package campaign

import (
	"math"
	"time"
)

// 春节 (the first day of the Chinese lunar year) computed from the sky, by
// the rules of GB/T 33661-2017 (农历的编算和颁行):
//
//   - a month begins on the day, in China Standard Time (UTC+8), of a new moon;
//   - the month holding the winter solstice (冬至) is month 11;
//   - when 13 months begin from one month 11 to the next, the first of them
//     without a principal solar term (中气, a solar longitude multiple of
//     30°) is a leap month and repeats the number before it;
//   - 春节 is the first day of month 1: the second month after month 11, or
//     the third when month 11 or 12 is followed by its leap month (as in
//     2033, whose 闰十一月 moves 春节 2034 to February 19).
//
// The instants come from Jean Meeus, "Astronomical Algorithms" (2nd ed.):
// the true new moon of chapter 49 (a few seconds) and the Sun's apparent
// longitude of chapter 25 (about 0.01°, some 15 minutes of time), with ΔT
// from the Espenak–Meeus polynomials. A date could come out wrong only
// when a new moon, or a principal term that decides a leap month, falls
// within minutes of midnight in Beijing. For 1901–2199 the results equal
// those of an independent calendar library except 1916 (February 4 here,
// February 3 there): calendars before 1929 used Beijing local time, not
// UTC+8, and this follows the standard's UTC+8 for every year.

// lunarFirstYear..lunarLastYear is the range SpringFestival answers for: where the ΔT
// polynomials below hold.
const lunarFirstYear, lunarLastYear = 1901, 2199

var cst = time.FixedZone("CST", 8*3600)

// julianDayUnix is the Julian day of 1970-01-01T00:00Z.
const julianDayUnix = 2440587.5

func rad(deg float64) float64 { return deg * math.Pi / 180 }

// springFestivalOf returns 春节 of the Gregorian year as midnight UTC of its
// date (the shape the calendar's other dates take).
func springFestivalOf(year int) time.Time {
	// Month 11 of the year before, and month 11 of this year.
	m11 := monthElevenStart(year - 1)
	next := monthElevenStart(year)
	// The new moons from m11 onwards, by their CST date.
	k := newMoonIndexBefore(m11)
	var starts []time.Time // CST dates (midnight UTC values) of month starts
	for ; len(starts) == 0 || starts[len(starts)-1].Before(next); k++ {
		d := cstDate(newMoon(k))
		if d.Before(m11) {
			continue
		}
		starts = append(starts, d)
	}
	// starts[0] is month 11; the last is next year's month 11.
	months := len(starts) - 1
	newYear := 2
	if months == 13 {
		// The first month with no principal term is the leap month; when it
		// is the second or third (a leap 11th or 12th), month 1 moves on.
		for i := 0; i < months; i++ {
			if !hasPrincipalTerm(starts[i], starts[i+1]) {
				if i <= 2 {
					newYear = 3
				}
				break
			}
		}
	}
	return starts[newYear]
}

// monthElevenStart is the CST date of the new moon that begins the month
// holding the winter solstice of year.
func monthElevenStart(year int) time.Time {
	solstice := cstDate(solarLongitudeTime(year, 270))
	k := newMoonIndexBefore(solstice) + 2
	for ; cstDate(newMoon(k)).After(solstice); k-- {
	}
	return cstDate(newMoon(k))
}

// hasPrincipalTerm tells whether a principal term's CST date falls in the
// month from the day start up to (not including) the day end.
func hasPrincipalTerm(start, end time.Time) bool {
	a := sunLongitude(julianDay(start.Add(-8 * time.Hour)))
	b := sunLongitude(julianDay(end.Add(-8 * time.Hour)))
	return math.Floor(b/30) != math.Floor(a/30)
}

// cstDate is the date, in UTC+8, of the instant t, as midnight UTC.
func cstDate(t time.Time) time.Time {
	y, m, d := t.In(cst).Date()
	return date(y, m, d)
}

// newMoonIndexBefore is a lunation number k (Meeus ch. 49, k = 0 the new
// moon of 2000-01-06) whose new moon comes a little before the date.
func newMoonIndexBefore(d time.Time) int {
	years := float64(d.Unix())/(365.2425*86400) + 1970
	return int(math.Floor((years-2000)*12.3685)) - 1
}

// julianDay of the instant t (UT).
func julianDay(t time.Time) float64 {
	return julianDayUnix + float64(t.UnixNano())/86400e9
}

func fromJulianDay(jd float64) time.Time {
	return time.Unix(0, int64(math.Round((jd-julianDayUnix)*86400e9))).UTC()
}

// deltaT is TT − UT in seconds around the decimal year y (Espenak & Meeus,
// "Five Millennium Canon of Solar Eclipses", polynomial expressions).
func deltaT(y float64) float64 {
	switch {
	case y < 1920:
		t := y - 1900
		return -2.79 + 1.494119*t - 0.0598939*t*t + 0.0061966*t*t*t - 0.000197*t*t*t*t
	case y < 1941:
		t := y - 1920
		return 21.20 + 0.84493*t - 0.076100*t*t + 0.0020936*t*t*t
	case y < 1961:
		t := y - 1950
		return 29.07 + 0.407*t - t*t/233 + t*t*t/2547
	case y < 1986:
		t := y - 1975
		return 45.45 + 1.067*t - t*t/260 - t*t*t/718
	case y < 2005:
		t := y - 2000
		return 63.86 + 0.3345*t - 0.060374*t*t + 0.0017275*t*t*t + 0.000651814*t*t*t*t + 0.00002373599*t*t*t*t*t
	case y < 2050:
		t := y - 2000
		return 62.92 + 0.32217*t + 0.005589*t*t
	case y < 2150:
		u := (y - 1820) / 100
		return -20 + 32*u*u - 0.5628*(2150-y)
	default:
		u := (y - 1820) / 100
		return -20 + 32*u*u
	}
}

// ttToUT converts a Julian Ephemeris Day to the UT instant.
func ttToUT(jde float64) time.Time {
	y := 2000 + (jde-2451545.0)/365.25
	return fromJulianDay(jde - deltaT(y)/86400)
}

// newMoon is the instant (UT) of the true new moon of lunation k
// (Meeus ch. 49).
func newMoon(k int) time.Time {
	kf := float64(k)
	T := kf / 1236.85
	T2, T3, T4 := T*T, T*T*T, T*T*T*T
	jde := 2451550.09766 + 29.530588861*kf + 0.00015437*T2 - 0.000000150*T3 + 0.00000000073*T4
	E := 1 - 0.002516*T - 0.0000074*T2
	M := rad(2.5534 + 29.10535670*kf - 0.0000014*T2 - 0.00000011*T3)
	Mp := rad(201.5643 + 385.81693528*kf + 0.0107582*T2 + 0.00001238*T3 - 0.000000058*T4)
	F := rad(160.7108 + 390.67050284*kf - 0.0016118*T2 - 0.00000227*T3 + 0.000000011*T4)
	O := rad(124.7746 - 1.56375588*kf + 0.0020672*T2 + 0.00000215*T3)
	sin := math.Sin
	jde += -0.40720*sin(Mp) +
		0.17241*E*sin(M) +
		0.01608*sin(2*Mp) +
		0.01039*sin(2*F) +
		0.00739*E*sin(Mp-M) -
		0.00514*E*sin(Mp+M) +
		0.00208*E*E*sin(2*M) -
		0.00111*sin(Mp-2*F) -
		0.00057*sin(Mp+2*F) +
		0.00056*E*sin(2*Mp+M) -
		0.00042*sin(3*Mp) +
		0.00042*E*sin(M+2*F) +
		0.00038*E*sin(M-2*F) -
		0.00024*E*sin(2*Mp-M) -
		0.00017*sin(O) -
		0.00007*sin(Mp+2*M) +
		0.00004*sin(2*Mp-2*F) +
		0.00004*sin(3*M) +
		0.00003*sin(Mp+M-2*F) +
		0.00003*sin(2*Mp+2*F) -
		0.00003*sin(Mp+M+2*F) +
		0.00003*sin(Mp-M+2*F) -
		0.00002*sin(Mp-M-2*F) -
		0.00002*sin(3*Mp+M) +
		0.00002*sin(4*Mp)
	// Planetary arguments.
	planetary := []struct{ c, a0, ak float64 }{
		{325, 299.77, 0.107408}, {165, 251.88, 0.016321}, {164, 251.83, 26.651886},
		{126, 349.42, 36.412478}, {110, 84.66, 18.206239}, {62, 141.74, 53.303771},
		{60, 207.14, 2.453732}, {56, 154.84, 7.306860}, {47, 34.52, 27.261239},
		{42, 207.19, 0.121824}, {40, 291.34, 1.844379}, {37, 161.72, 24.198154},
		{35, 239.56, 25.513099}, {23, 331.55, 3.592518},
	}
	for i, p := range planetary {
		a := p.a0 + p.ak*kf
		if i == 0 {
			a -= 0.009173 * T2
		}
		jde += p.c * 1e-6 * sin(rad(a))
	}
	return ttToUT(jde)
}

// sunLongitudeTT is the Sun's apparent geocentric longitude in degrees
// [0, 360) at the Julian Ephemeris Day jde (Meeus ch. 25).
func sunLongitudeTT(jde float64) float64 {
	T := (jde - 2451545.0) / 36525
	L0 := 280.46646 + 36000.76983*T + 0.0003032*T*T
	M := rad(357.52911 + 35999.05029*T - 0.0001537*T*T)
	C := (1.914602-0.004817*T-0.000014*T*T)*math.Sin(M) +
		(0.019993-0.000101*T)*math.Sin(2*M) +
		0.000289*math.Sin(3*M)
	omega := rad(125.04 - 1934.136*T)
	l := L0 + C - 0.00569 - 0.00478*math.Sin(omega)
	return math.Mod(math.Mod(l, 360)+360, 360)
}

// sunLongitude is the Sun's apparent longitude at the UT Julian day jd.
func sunLongitude(jd float64) float64 {
	y := 2000 + (jd-2451545.0)/365.25
	return sunLongitudeTT(jd + deltaT(y)/86400)
}

// solarLongitudeTime is the instant (UT) in year when the Sun's apparent
// longitude reaches lon degrees (270: the winter solstice).
func solarLongitudeTime(year int, lon float64) time.Time {
	// Start from the mean date and correct (Meeus ch. 27's 58 sin(λ₀−λ)).
	jde := julianDay(date(year, time.March, 20)) + (lon/360)*365.2422
	for i := 0; i < 50; i++ {
		d := 58 * math.Sin(rad(lon-sunLongitudeTT(jde)))
		jde += d
		if math.Abs(d) < 1e-7 {
			break
		}
	}
	return ttToUT(jde)
}
