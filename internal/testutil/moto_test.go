package testutil

import (
	"net/http"
	"net/url"
	"testing"
)

func TestMotoSharedIsReset(t *testing.T) {
	ep := Moto(t)
	resp, err := http.Get(ep + "/moto-api/data.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("moto answered %s", resp.Status)
	}
	MotoIAM(t, ep, url.Values{"Action": {"CreateUser"}, "UserName": {"alice"}})
	// The next test's server is the same one, with nothing left in it:
	// creating the same user again works.
	if ep2 := Moto(t); ep2 != ep {
		t.Fatalf("shared server moved from %s to %s", ep, ep2)
	}
	MotoIAM(t, ep, url.Values{"Action": {"CreateUser"}, "UserName": {"alice"}})
}

func TestMotoPrivate(t *testing.T) {
	ep := MotoPrivate(t)
	if ep == Moto(t) {
		t.Fatal("MotoPrivate returned the shared server")
	}
	id, secret := MotoIAMUser(t, ep, "bob", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	if id == "" || secret == "" {
		t.Fatal("no access key")
	}
}
