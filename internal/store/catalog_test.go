package store

import (
	"reflect"
	"testing"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// filledRight sets every field of a Right to a value that differs from its
// zero value and from the other fields, by reflection, so that a field added
// to helpdesk.Right and forgotten by the catalog record fails the round trip.
func filledRight(t *testing.T, seed string) helpdesk.Right {
	t.Helper()
	var r helpdesk.Right
	v := reflect.ValueOf(&r).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		name := v.Type().Field(i).Name
		switch f.Kind() {
		case reflect.String:
			f.SetString(seed + "-" + name)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			s := reflect.MakeSlice(f.Type(), 2, 2)
			s.Index(0).SetString(seed + "-" + name + "-0")
			s.Index(1).SetString(seed + "-" + name + "-1")
			f.Set(s)
		default:
			t.Fatalf("Right.%s has kind %s, which the catalog record does not store", name, f.Kind())
		}
	}
	return r
}

func TestCatalogRecordRoundTrips(t *testing.T) {
	bare := helpdesk.Right{Name: "bare", Kind: helpdesk.KindAction, Category: helpdesk.CatSupporter}
	oneFlag := bare
	oneFlag.Name, oneFlag.Internal = "one-flag", true
	for _, rs := range [][]helpdesk.Right{
		{},
		{filledRight(t, "a")},
		{bare, oneFlag, filledRight(t, "z")},
	} {
		got, err := decodeCatalog(encodeCatalog(rs))
		if err != nil {
			t.Fatalf("decode(encode(%v)): %v", rs, err)
		}
		if len(rs) == 0 && len(got) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, rs) {
			t.Errorf("round trip\n got %+v\nwant %+v", got, rs)
		}
	}
}

func TestCatalogRecordRefusesDamage(t *testing.T) {
	good := encodeCatalog([]helpdesk.Right{filledRight(t, "a")})
	for name, v := range map[string][]byte{
		"empty":         {},
		"other version": append([]byte{catalogVersion + 1}, good[1:]...),
		"cut short":     good[:len(good)-3],
		"trailing":      append(append([]byte{}, good...), 0),
		"huge count":    {catalogVersion, 0xff, 0xff, 0xff, 0x0f},
	} {
		if _, err := decodeCatalog(v); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// Rights reads the catalog record, so it follows every change of a custom
// action made through the store, and db check notices a stale record.
func TestRightsFollowCustomActions(t *testing.T) {
	db := openTestStore(t)
	names := func() []string {
		var out []string
		mustView(t, db, func(tx *Tx) error {
			rs, err := tx.Rights()
			for _, r := range rs {
				if !r.Builtin {
					out = append(out, r.Name)
				}
			}
			return err
		})
		return out
	}
	act := func(name string) helpdesk.Right {
		return helpdesk.Right{Name: name, Kind: helpdesk.KindAction, Category: helpdesk.CatSupporter,
			Description: "d", FromStates: []helpdesk.State{helpdesk.StateNew}}
	}
	equal(t, "custom actions at first", names(), []string(nil))
	mustUpdate(t, db, func(tx *Tx) error {
		if err := tx.PutAction(act("escalate")); err != nil {
			return err
		}
		return tx.PutAction(act("callback"))
	})
	equal(t, "custom actions after two puts", names(), []string{"callback", "escalate"})
	mustUpdate(t, db, func(tx *Tx) error {
		for _, r := range []helpdesk.Right{
			{Name: "aaa-first", Kind: helpdesk.KindAction, Category: helpdesk.CatAllUsers, Description: "d"},
			{Name: "zzz-edit", Kind: helpdesk.KindAction, Category: helpdesk.CatEdit, Description: "d", Field: "priority"},
		} {
			if err := tx.PutAction(r); err != nil {
				return err
			}
		}
		return nil
	})
	mustView(t, db, func(tx *Tx) error {
		// The merged catalog is the order SortRights gives the whole list.
		custom, err := tx.CustomActions()
		if err != nil {
			return err
		}
		want := append(helpdesk.Builtins(), custom...)
		helpdesk.SortRights(want)
		got, err := tx.Rights()
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Rights() order differs from SortRights:\n got %v\nwant %v", rightNames(got), rightNames(want))
		}
		return nil
	})
	mustUpdate(t, db, func(tx *Tx) error {
		if err := tx.DeleteAction("aaa-first"); err != nil {
			return err
		}
		return tx.DeleteAction("zzz-edit")
	})
	mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteAction("callback") })
	equal(t, "custom actions after a delete", names(), []string{"escalate"})
	assertNoProblems(t, db)

	mustUpdate(t, db, func(tx *Tx) error { return putJSON(tx.bucket(bucketActions), []byte("hidden"), act("hidden")) })
	equal(t, "findings", findings(t, db), []string{"index: the custom action catalog does not match the 2 custom actions"})
	mustUpdate(t, db, func(tx *Tx) error { return tx.bucket(bucketCatalog).Put(catalogKey, []byte{catalogVersion, 9}) })
	equal(t, "findings", findings(t, db), []string{"index: the custom action catalog cannot be decoded: the catalog record is damaged"})
	mustView(t, db, func(tx *Tx) error {
		if _, err := tx.Rights(); err == nil {
			t.Error("Rights over a damaged catalog record: no error")
		}
		return nil
	})
}

func rightNames(rs []helpdesk.Right) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}
