package web

import (
	"strconv"
	"sync"
	"time"
)

// limiter is a token bucket per client key.
type limiter struct {
	mu        sync.Mutex
	perSecond float64
	burst     float64
	clients   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxClients bounds the limiter's memory when addresses keep changing.
const maxClients = 50_000

func newLimiter(rl RateLimit) *limiter {
	return &limiter{
		perSecond: float64(rl.PerMinute) / 60,
		burst:     float64(rl.Burst),
		clients:   make(map[string]*bucket),
	}
}

// refill brings b up to now and returns it, creating a full bucket for a new client.
func (l *limiter) refill(key string, now time.Time) *bucket {
	b, ok := l.clients[key]
	if !ok {
		l.sweep(now)
		b = &bucket{tokens: l.burst, at: now}
		l.clients[key] = b
		return b
	}
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed.Seconds()*l.perSecond)
		b.at = now
	}
	return b
}

// take spends one token; when none is left it says how long until one is.
func (l *limiter) take(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, l.wait(b)
}

// wait is how long until b holds a whole token again.
func (l *limiter) wait(b *bucket) time.Duration {
	return time.Duration((1 - b.tokens) / l.perSecond * float64(time.Second))
}

// charge spends a token without asking; the balance may go below zero, so a
// client that keeps failing waits longer.
func (l *limiter) charge(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key, now)
	b.tokens = max(b.tokens-1, -l.burst)
}

// sweep forgets clients whose buckets have refilled, since a new full bucket
// is the same thing; it runs at most once a minute unless memory is tight.
func (l *limiter) sweep(now time.Time) {
	if len(l.clients) < maxClients && now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	full := time.Duration(l.burst*2/l.perSecond*float64(time.Second)) + time.Second
	for k, b := range l.clients {
		if now.Sub(b.at) > full {
			delete(l.clients, k)
		}
	}
	// Still too many active clients: drop arbitrary ones rather than grow without bound.
	for k := range l.clients {
		if len(l.clients) < maxClients {
			break
		}
		delete(l.clients, k)
	}
}

// FailureLimiter counts failures per client with the same token buckets, for
// handlers served beside the pages: each failure spends a token, and a
// client with none left is refused until its bucket refills.
type FailureLimiter struct{ l *limiter }

// NewFailureLimiter allows rl.Burst failures at once and rl.PerMinute after.
func NewFailureLimiter(rl RateLimit) *FailureLimiter { return &FailureLimiter{newLimiter(rl)} }

// Blocked reports whether key has no failures left, and for how long.
func (f *FailureLimiter) Blocked(key string, now time.Time) (bool, time.Duration) {
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	b := f.l.refill(key, now)
	if b.tokens >= 1 {
		return false, 0
	}
	return true, f.l.wait(b)
}

// Fail records a failure by key.
func (f *FailureLimiter) Fail(key string, now time.Time) { f.l.charge(key, now) }

func itoa(n int) string { return strconv.Itoa(n) }
