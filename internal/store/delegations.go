package store

import (
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// Delegation returns the delegation of an approver, if they have one.
func (tx *Tx) Delegation(login string) (helpdesk.Delegation, bool, error) {
	var d helpdesk.Delegation
	ok, err := getJSON(tx.bucket(bucketDelegations), []byte(login), &d)
	return d, ok, err
}

// PutDelegation stores d, replacing any delegation its user had.
func (tx *Tx) PutDelegation(d helpdesk.Delegation) error {
	return putJSON(tx.bucket(bucketDelegations), []byte(d.User), d)
}

// DeleteDelegation removes an approver's delegation.
func (tx *Tx) DeleteDelegation(login string) error {
	return tx.bucket(bucketDelegations).Delete([]byte(login))
}

// Delegations returns every delegation, by the delegating user's login.
func (tx *Tx) Delegations() ([]helpdesk.Delegation, error) {
	var out []helpdesk.Delegation
	err := tx.bucket(bucketDelegations).ForEach(func(_, v []byte) error {
		var d helpdesk.Delegation
		if err := unmarshal(v, &d); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, err
}
