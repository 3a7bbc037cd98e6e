package testutil

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var (
	motoOnce   sync.Once
	motoPython string
	motoErr    error
)

// MotoPython returns an interpreter that runs moto's server: the machine's
// python3 when it has moto, else the venv scripts/setup-moto.sh installs
// (LAMBDAPACK_TEST_MOTO_PYTHON overrides both).
func MotoPython(t testing.TB) string {
	t.Helper()
	motoOnce.Do(func() {
		script := filepath.Join(RepoRoot(t), "scripts", "setup-moto.sh")
		cmd := exec.Command("bash", script)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			motoErr = fmt.Errorf("scripts/setup-moto.sh: %v\n%s", err, stderr.String())
			return
		}
		motoPython = strings.TrimSpace(string(out))
	})
	if motoErr != nil {
		t.Fatalf("setting up moto: %v", motoErr)
	}
	return motoPython
}

var (
	motoShared   *motoServer
	motoSharedMu sync.Mutex
)

// Moto returns the endpoint URL ("http://127.0.0.1:PORT", for
// AWS_ENDPOINT_URL) of a moto server (a real emulator of S3, Lambda, IAM and
// STS) with every service's state reset and authorization off. One server on
// a free loopback port is shared by the tests of a test binary: it starts
// with the first call (seconds on a busy machine) and exits with the test
// process. Tests using Moto must not run in parallel with each other; use
// MotoPrivate for a server of the test's own.
func Moto(t testing.TB) string {
	t.Helper()
	motoSharedMu.Lock()
	defer motoSharedMu.Unlock()
	if motoShared != nil && !motoShared.alive() {
		motoShared = nil
	}
	if motoShared == nil {
		srv, err := startMotoRetry(t)
		if err != nil {
			t.Fatalf("starting moto server: %v", err)
		}
		motoShared = srv
	}
	for _, call := range []struct{ path, body string }{{"/moto-api/reset", ""}, {"/moto-api/reset-auth", "inf"}} {
		resp, err := http.Post(motoShared.endpoint+call.path, "text/plain", strings.NewReader(call.body))
		if err != nil {
			t.Fatalf("resetting moto (%s): %v", call.path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("resetting moto (%s): %s", call.path, resp.Status)
		}
	}
	srv := motoShared
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("moto server log (%s):\n%s", srv.endpoint, tail(srv.logs.String(), 4000))
		}
	})
	return srv.endpoint
}

// MotoPrivate starts a moto server for this test alone and stops it when the
// test ends.
func MotoPrivate(t testing.TB) string {
	t.Helper()
	srv, err := startMotoRetry(t)
	if err != nil {
		t.Fatalf("starting moto server: %v", err)
	}
	t.Cleanup(func() {
		srv.stop()
		if t.Failed() {
			t.Logf("moto server log (%s):\n%s", srv.endpoint, tail(srv.logs.String(), 4000))
		}
	})
	return srv.endpoint
}

type motoServer struct {
	endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
	logs     SyncBuffer
}

func (m *motoServer) alive() bool {
	select {
	case <-m.done:
		return false
	default:
		return true
	}
}

func (m *motoServer) stop() {
	m.cmd.Process.Kill()
	<-m.done
}

// motoLauncher runs moto's server and exits when its stdin closes, so the
// server never outlives the test process, however that ends.
const motoLauncher = `import os, sys, threading
def _watch():
    sys.stdin.buffer.read()
    os._exit(0)
threading.Thread(target=_watch, daemon=True).start()
from moto.server import main
main(sys.argv[1:])
`

func startMotoRetry(t testing.TB) (*motoServer, error) {
	py := MotoPython(t)
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		srv, err := startMoto(py)
		if err == nil {
			return srv, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func startMoto(py string) (*motoServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	m := &motoServer{endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan struct{})}
	m.cmd = exec.Command(py, "-c", motoLauncher, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	// Keep the caller's AWS settings (and auth enforcement) away from the
	// server itself.
	env := []string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "INITIAL_NO_AUTH_ACTION_COUNT=") {
			continue
		}
		env = append(env, kv)
	}
	m.cmd.Env = env
	m.cmd.Stdout, m.cmd.Stderr = &m.logs, &m.logs
	// The write end of this pipe stays open in the test process until it
	// exits; the launcher exits when it closes.
	if _, err := m.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := m.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { m.cmd.Wait(); close(m.done) }()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if !m.alive() {
			return nil, fmt.Errorf("moto server exited early:\n%s", m.logs.String())
		}
		resp, err := client.Get(m.endpoint + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return m, nil
			}
		}
		if time.Now().After(deadline) {
			m.stop()
			return nil, fmt.Errorf("moto server on %s did not answer within 2 minutes:\n%s", m.endpoint, m.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// MotoEnforceAuth makes the moto server at endpoint check signatures and IAM
// policies on every request after the next `after` ones (moto's
// /moto-api/reset-auth, i.e. INITIAL_NO_AUTH_ACTION_COUNT), and turns that
// off again when the test ends. Create the IAM users the test needs before
// calling it.
//
// Known moto limitation (5.x server mode): it verifies the signature of a
// Lambda request without a body (GET: ListLayerVersions, GetLayerVersion,
// GetFunction...) against its headers encoded as a form body, so those always
// fail with SignatureDoesNotMatch, even for boto3. Lambda calls with a body
// (PublishLayerVersion, UpdateFunctionCode) and S3 and STS calls are checked
// correctly: let the GETs through with `after`.
func MotoEnforceAuth(t testing.TB, endpoint string, after int) {
	t.Helper()
	setAuth := func(count string) error {
		resp, err := http.Post(endpoint+"/moto-api/reset-auth", "text/plain", strings.NewReader(count))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("moto reset-auth: %s", resp.Status)
		}
		return nil
	}
	if err := setAuth(fmt.Sprint(after)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { setAuth("inf") })
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// MotoIAM makes one IAM Query API call (params holds Action and its
// arguments) to the moto server at endpoint, signed with the "testing" keys,
// and returns the XML answer; a non-200 answer fails the test.
func MotoIAM(t testing.TB, endpoint string, params url.Values) string {
	t.Helper()
	params.Set("Version", "2010-05-08")
	body := params.Encode()
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "iam", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("moto IAM %s: %v", params.Get("Action"), err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("moto IAM %s: %s\n%s", params.Get("Action"), resp.Status, data)
	}
	return string(data)
}

// MotoIAMUser creates an IAM user in the moto server at endpoint with one
// inline policy (a JSON policy document) and returns an access key for it.
// Call it before MotoEnforceAuth.
func MotoIAMUser(t testing.TB, endpoint, user, policy string) (accessKeyID, secretAccessKey string) {
	t.Helper()
	MotoIAM(t, endpoint, url.Values{"Action": {"CreateUser"}, "UserName": {user}})
	MotoIAM(t, endpoint, url.Values{"Action": {"PutUserPolicy"}, "UserName": {user}, "PolicyName": {user + "-policy"}, "PolicyDocument": {policy}})
	out := MotoIAM(t, endpoint, url.Values{"Action": {"CreateAccessKey"}, "UserName": {user}})
	var parsed struct {
		ID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
		Secret string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
	}
	if err := xml.Unmarshal([]byte(out), &parsed); err != nil || parsed.ID == "" {
		t.Fatalf("moto IAM CreateAccessKey: unexpected answer %q (%v)", out, err)
	}
	return parsed.ID, parsed.Secret
}

// MotoLambdaRole creates an IAM role Lambda may assume in the moto server at
// endpoint and returns its ARN (CreateFunction needs one that exists).
func MotoLambdaRole(t testing.TB, endpoint, name string) string {
	t.Helper()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	out := MotoIAM(t, endpoint, url.Values{"Action": {"CreateRole"}, "RoleName": {name}, "AssumeRolePolicyDocument": {trust}})
	var parsed struct {
		Arn string `xml:"CreateRoleResult>Role>Arn"`
	}
	if err := xml.Unmarshal([]byte(out), &parsed); err != nil || parsed.Arn == "" {
		t.Fatalf("moto IAM CreateRole: unexpected answer %q (%v)", out, err)
	}
	return parsed.Arn
}

// IsolateAWS clears every AWS setting of the machine the test runs on
// (variables, config and credentials files, instance metadata), so only what
// the test sets counts.
func IsolateAWS(t testing.TB) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// MotoEnv starts moto (shared, reset) and points the AWS SDK's default chain
// at it through the environment only, as a user would, with dummy
// credentials whose secret is MotoSecret. It returns the endpoint.
func MotoEnv(t testing.TB) string {
	t.Helper()
	IsolateAWS(t)
	ep := Moto(t)
	t.Setenv("AWS_ENDPOINT_URL", ep)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", MotoSecret)
	t.Setenv("AWS_REGION", "us-east-1")
	return ep
}

// MotoSecret is the secret access key MotoEnv sets; no output may show it.
const MotoSecret = "testing-secret-value"
