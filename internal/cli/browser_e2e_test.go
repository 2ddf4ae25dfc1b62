package cli

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium. Without it the test skips locally,
// but under CI a missing browser must fail, or the test would quietly vanish.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found, and CI=true forbids skipping the browser test; install it with: apt-get install -y chromium")
	}
	t.Skip("chromium not found (/usr/bin/chromium or on PATH); install it to run the browser test")
	return ""
}

// screenshot saves a PNG of the whole page into DESKCTL_SCREENSHOT_DIR, when set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("DESKCTL_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserRejectsFromMailLink drives headless Chromium through the whole
// stack: the Reject link comes from the mail the SMTP server received, the
// page is served by the real handler over the real database, and the outcome
// mail must reach the technician.
func TestBrowserRejectsFromMailLink(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := chromiumPath(t)
	s := newApprovalStack(t)
	n := s.newTicket("New access point for floor 2")
	num := strconv.Itoa(n)
	_, reject := s.request(n, "New access point for floor 2", "The old one drops clients every hour. 240 EUR.")

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	// The first action starts the browser and must not run under the timeout below.
	// The viewport is a phone's: approvers often open the mail on one.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2))); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	// Only a bound against a hung browser, not a timing assertion.
	ctx, cancelRun := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelRun()

	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(reject))
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("opening the Reject link from the mail: %v, %+v", err, resp)
	}
	if h, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1"))); err != nil || h != "Ticket #"+num+" needs your decision" {
		t.Fatalf("page heading %q (%v)", h, err)
	}
	details, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("dl")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#" + num + " New access point for floor 2", "Dave Requester", "Bob Tech", "The old one drops clients every hour. 240 EUR."} {
		if !strings.Contains(details, want) {
			t.Errorf("the page's details lack %q:\n%s", want, details)
		}
	}
	if v := s.approval(n); v.State != "pending" {
		t.Fatalf("opening the link in a browser decided: %+v", v)
	}

	const comment = "Please reuse the spare AP from storage first."
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("comment"), comment)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "approval-page.png")
	resp, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button[value="reject"]`)))
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("pressing Reject: %v, %+v", err, resp)
	}
	if h, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1"))); err != nil || h != "You rejected ticket #"+num {
		t.Fatalf("result heading %q (%v)", h, err)
	}
	if got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("p.note"))); err != nil || got != comment {
		t.Errorf("result page shows comment %q (%v), want %q", got, err, comment)
	}
	screenshot(t, ctx, "approval-result.png")

	v := s.approval(n)
	if v.State != "rejected" || v.DecidedBy != "carol" || v.Comment != comment {
		t.Errorf("after pressing Reject: %+v", v)
	}
	m := s.nextMail()
	if len(m.To) != 1 || m.To[0] != "bob@example.com" || m.Subject != "Rejected by Carol Jones: #"+num+" New access point for floor 2" || !strings.Contains(m.Text, comment) {
		t.Errorf("outcome mail to %q: %q\n%s", m.To, m.Subject, m.Text)
	}

	resp, err = chromedp.Run(ctx, chromedp.NavigateResponse(reject))
	if err != nil || resp.Status != http.StatusGone {
		t.Fatalf("opening the used link: %v, %+v", err, resp)
	}
	if h, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1"))); err != nil || h != "Already decided" {
		t.Errorf("used link heading %q (%v)", h, err)
	}
	if got := s.decisions(n); got != 1 {
		t.Errorf("%d decision records, want 1", got)
	}
	s.noNewMail()
}
