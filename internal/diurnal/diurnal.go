// Package diurnal holds the shape of a shop's day: how traffic and orders
// spread over the hours, in shop-local time. The demo history and the
// traffic simulator share it so the seeded past and the live traffic look
// alike on the dashboard.
package diurnal

// Hours are relative weights of each local hour (index 0 is 00:00–01:00)
// typical of Chinese e-commerce: quiet from 02:00 to 07:00, a late-morning
// peak at 10:00–11:00, a plateau through the afternoon (14:00–16:00) and
// the evening peak 20:00–23:00.
var Hours = [24]float64{4, 2, 1, 0.5, 0.4, 0.5, 1, 2, 3.5, 5, 7, 6.5, 6, 5, 4.5, 4.5, 4.5, 4.5, 5, 6, 8.5, 10, 9.5, 6.5}

// Mean is the mean of Hours: a rate given "at the curve's mean" is
// multiplied by Hours[h]/Mean() in hour h, so that it averages to itself
// over a day.
func Mean() float64 {
	var s float64
	for _, w := range Hours {
		s += w
	}
	return s / float64(len(Hours))
}
