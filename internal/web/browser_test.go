package web

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// findChromium returns the browser to drive. Locally the test skips without
// one; under CI a missing browser is a failure, so the check cannot vanish.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium found; CI must install it (apt-get install -y chromium)")
	}
	t.Skip("no chromium found; install it to run the browser test")
	return ""
}

// TestBrowserDecidesWithoutJavaScript drives a real headless browser with
// scripts disabled: open the Reject link, type a comment, press Reject, see
// the result, then see the error when the link is opened again.
//
// Set DESKCTL_SCREENSHOT=path.png to save the confirmation page as it looks on a phone.
func TestBrowserDecidesWithoutJavaScript(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := findChromium(t)

	var mu sync.Mutex
	var posts []http.Header
	ts := startWrapped(t, nil, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				mu.Lock()
				posts = append(posts, r.Header.Clone())
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	})
	token := ts.fake.add(t, sampleView)
	link := LinkURL(ts.public, token, false)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	// The first action starts the browser; it must not run under a timeout.
	noScripts := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})
	// A phone-sized viewport, since approvers often open the mail on one.
	if err := chromedp.Do(ctx, noScripts, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2))); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	ctx, cancelRun := context.WithTimeout(ctx, time.Minute)
	defer cancelRun()

	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(link))
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("opening the link: %v, %+v", err, resp)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || heading != "Ticket #42 needs your decision" {
		t.Fatalf("page heading %q, %v", heading, err)
	}
	if shot := os.Getenv("DESKCTL_SCREENSHOT"); shot != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.value`))
	if err != nil || focused != "reject" {
		t.Errorf("focused control %q (%v), want the Reject button from the link", focused, err)
	}

	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("comment"), "Not this quarter.")); err != nil {
		t.Fatal(err)
	}
	resp, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button[value="reject"]`)))
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("pressing Reject: %v, %+v", err, resp)
	}
	heading, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || heading != "You rejected ticket #42" {
		t.Fatalf("result heading %q, %v", heading, err)
	}
	_, decides := ts.fake.calls()
	if want := (decideCall{token, false, "Not this quarter."}); len(decides) != 1 || decides[0] != want {
		t.Fatalf("decisions %+v, want exactly %+v", decides, want)
	}
	mu.Lock()
	t.Logf("the browser's POST carried Origin %q, Sec-Fetch-Site %q, Referer %q",
		posts[0].Get("Origin"), posts[0].Get("Sec-Fetch-Site"), posts[0].Get("Referer"))
	// Referrer-Policy: same-origin lets the browser name the page on its own
	// form (the token is in the form's path already); it must never name
	// anything but this server.
	if ref := posts[0].Get("Referer"); ref != "" && !strings.HasPrefix(ref, ts.URL+"/") {
		t.Errorf("the browser's Referer names another origin: %s", ref)
	}
	if o := posts[0].Get("Origin"); o != ts.URL {
		t.Errorf("the browser's POST carried Origin %q, want %q", o, ts.URL)
	}
	mu.Unlock()

	resp, err = chromedp.Run(ctx, chromedp.NavigateResponse(link))
	if err != nil || resp.Status != http.StatusGone {
		t.Fatalf("opening the used link: %v, %+v", err, resp)
	}
	heading, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || heading != "Already decided" {
		t.Errorf("used link heading %q, %v", heading, err)
	}
	if _, decides := ts.fake.calls(); len(decides) != 1 {
		t.Errorf("opening the used link decided again: %+v", decides)
	}
}
