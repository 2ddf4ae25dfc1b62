package mail

import "time"

// backoffSteps is the outbox retry schedule: quick retries for a server that
// blinked, then a steady pace that still delivers within the day once an
// outage or a settings mistake is fixed.
var backoffSteps = []time.Duration{
	time.Minute,
	5 * time.Minute,
	15 * time.Minute,
	time.Hour,
	6 * time.Hour,
}

// Backoff is how long the outbox waits after the attempt-th failed delivery
// of a message before trying again: 1m, 5m, 15m, 1h, then 6h for every later
// attempt. attempt counts from 1; zero or less means "no failure yet" and
// returns 0. The schedule is fixed, without jitter, so `mail queue` can show
// exactly when the next try is due.
func Backoff(attempt int) time.Duration {
	if attempt <= 0 {
		return 0
	}
	if attempt > len(backoffSteps) {
		return backoffSteps[len(backoffSteps)-1]
	}
	return backoffSteps[attempt-1]
}
