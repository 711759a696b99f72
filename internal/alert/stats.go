package alert

import (
	"math"
	"slices"
)

// The seasonal baseline of an anomaly rule is the same local hour of the
// week over the past weeks. Its centre is the median and its spread the
// median absolute deviation (MAD), both robust to the odd past spike (a
// past campaign day does not drag the baseline the way a mean would).
//
// z = (x − median) / (1.4826 × MAD), where 1.4826 makes MAD estimate the
// standard deviation of normal data. When the past weeks are (nearly)
// identical the MAD is 0 and any change would be infinitely many
// deviations away, so the scale has a floor: max(1, 10 % of |median|).
// A perfectly steady baseline then needs a change of 30 % (and at least 3
// units) to reach |z| = 3.

// MADScale is the consistency constant of the MAD for normal data.
const MADScale = 1.4826

// Z thresholds of the severities.
const (
	ZReminder = 3.0
	ZWarning  = 4.5
	ZUrgent   = 6.0
)

// Median is the median of xs (the mean of the middle two for an even
// count); 0 for none. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// MAD is the median absolute deviation of xs from their median.
func MAD(xs []float64) float64 {
	m := Median(xs)
	d := make([]float64, len(xs))
	for i, x := range xs {
		d[i] = math.Abs(x - m)
	}
	return Median(d)
}

// Scale is the robust standard deviation of a baseline with median m and
// MAD mad, with the floor described above.
func Scale(m, mad float64) float64 {
	return max(MADScale*mad, 1, 0.1*math.Abs(m))
}

// RobustZ is x's robust z-score against the baseline.
func RobustZ(x float64, baseline []float64) float64 {
	m := Median(baseline)
	return (x - m) / Scale(m, MAD(baseline))
}

// SeverityOfZ maps |z| to a severity: ≥ 3 reminder, ≥ 4.5 warning, ≥ 6
// urgent; "" below 3.
func SeverityOfZ(z float64) string {
	a := math.Abs(z)
	switch {
	case a >= ZUrgent:
		return SevUrgent
	case a >= ZWarning:
		return SevWarning
	case a >= ZReminder:
		return SevReminder
	}
	return ""
}

// HourScore is one complete hour's value against its baseline. Skip marks
// an hour that cannot count: too few baseline points, or too little volume.
type HourScore struct {
	Value  int64
	Median float64
	Z      float64
	Skip   bool
}

// Score scores value against baseline: skipped when the baseline has fewer
// than minPoints points, or when both value and median are below minVolume.
func Score(value int64, baseline []float64, minPoints int, minVolume int64) HourScore {
	if len(baseline) < minPoints {
		return HourScore{Value: value, Skip: true}
	}
	m := Median(baseline)
	h := HourScore{Value: value, Median: m, Z: RobustZ(float64(value), baseline)}
	if minVolume > 0 && value < minVolume && m < float64(minVolume) {
		h.Skip = true
	}
	return h
}

// Persistent reports the severity of a run of hours, oldest first: every
// one of them must be scored (not skipped), at |z| ≥ 3, all on the same
// side of its baseline; the severity is the latest hour's. "" when the run
// does not qualify (or is empty).
func Persistent(hours []HourScore) string {
	if len(hours) == 0 {
		return ""
	}
	sign := 0.0
	for _, h := range hours {
		if h.Skip || SeverityOfZ(h.Z) == "" {
			return ""
		}
		s := math.Copysign(1, h.Z)
		if sign != 0 && s != sign {
			return ""
		}
		sign = s
	}
	return SeverityOfZ(hours[len(hours)-1].Z)
}
