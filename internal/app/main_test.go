package app

import (
	"os"
	"testing"

	"github.com/deskctl/deskctl/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}
