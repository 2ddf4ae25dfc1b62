package store

import (
	"time"

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

// LastDigest returns when the approver login was last sent a digest; zero
// for never.
func (tx *Tx) LastDigest(login string) (time.Time, error) {
	var at time.Time
	v := tx.bucket(bucketDigests).Get([]byte(login))
	if v == nil {
		return at, nil
	}
	err := at.UnmarshalText(v)
	return at, err
}

// PutLastDigest records that the approver login was sent a digest at at.
func (tx *Tx) PutLastDigest(login string, at time.Time) error {
	v, err := at.UTC().MarshalText()
	if err != nil {
		return err
	}
	return tx.bucket(bucketDigests).Put([]byte(login), v)
}
