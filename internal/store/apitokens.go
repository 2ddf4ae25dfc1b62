package store

import (
	"cmp"
	"slices"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// APIToken finds a token by the hash of its secret.
func (tx *Tx) APIToken(hash string) (helpdesk.APIToken, bool, error) {
	var t helpdesk.APIToken
	ok, err := getJSON(tx.bucket(bucketAPITokens), []byte(hash), &t)
	return t, ok, err
}

// NewAPITokenID hands out the next token id.
func (tx *Tx) NewAPITokenID() (uint64, error) { return tx.bucket(bucketAPITokens).NextSequence() }

// PutAPIToken creates or replaces a token record under its hash.
func (tx *Tx) PutAPIToken(t helpdesk.APIToken) error {
	return putJSON(tx.bucket(bucketAPITokens), []byte(t.Hash), t)
}

// DeleteAPIToken removes a token; it can never authenticate again.
func (tx *Tx) DeleteAPIToken(hash string) error {
	return tx.bucket(bucketAPITokens).Delete([]byte(hash))
}

// APITokens lists the tokens of one user ("" for everyone's), by id.
func (tx *Tx) APITokens(user string) ([]helpdesk.APIToken, error) {
	var out []helpdesk.APIToken
	err := tx.bucket(bucketAPITokens).ForEach(func(_, v []byte) error {
		var t helpdesk.APIToken
		if err := unmarshal(v, &t); err != nil {
			return err
		}
		if user == "" || t.User == user {
			out = append(out, t)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b helpdesk.APIToken) int { return cmp.Compare(a.ID, b.ID) })
	return out, err
}
