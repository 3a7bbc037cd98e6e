package remote

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/authn"
)

// reECR matches a private ECR registry host and captures its region.
var reECR = regexp.MustCompile(`^\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$`)

// ECRRegion returns the region of an Amazon ECR registry host
// ("123456789012.dkr.ecr.eu-west-1.amazonaws.com"), if it is one.
func ECRRegion(host string) (string, bool) {
	m := reECR.FindStringSubmatch(host)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// ECRKeychain logs in to Amazon ECR registries with the AWS SDK's default
// chain (environment, profiles, SSO, roles): GetAuthorizationToken in the
// registry's region, its token used as basic auth. Tokens are kept for the
// run, per region. Other registries resolve to authn.Anonymous, so that a
// MultiKeychain goes on to the next keychain.
type ECRKeychain struct {
	// Region returns the region of an ECR registry host; nil means
	// ECRRegion. (Tests point a loopback registry at moto with it.)
	Region func(host string) (string, bool)
	// Config, when set, is used instead of loading the default chain.
	Config *aws.Config

	mu     sync.Mutex
	tokens map[string]authn.AuthConfig
}

// Resolve implements authn.Keychain.
func (k *ECRKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), r)
}

// ResolveContext implements authn.ContextKeychain.
func (k *ECRKeychain) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	region, ok := k.region(r.RegistryStr())
	if !ok {
		return authn.Anonymous, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if ac, ok := k.tokens[region]; ok {
		return authn.FromConfig(ac), nil
	}
	ac, err := k.login(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("logging in to ECR %s: %w", r.RegistryStr(), err)
	}
	if k.tokens == nil {
		k.tokens = map[string]authn.AuthConfig{}
	}
	k.tokens[region] = ac
	return authn.FromConfig(ac), nil
}

func (k *ECRKeychain) region(host string) (string, bool) {
	if k.Region != nil {
		return k.Region(host)
	}
	return ECRRegion(host)
}

func (k *ECRKeychain) login(ctx context.Context, region string) (authn.AuthConfig, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var cfg aws.Config
	if k.Config != nil {
		cfg = k.Config.Copy()
	} else {
		var err error
		if cfg, err = config.LoadDefaultConfig(ctx, config.WithRegion(region)); err != nil {
			return authn.AuthConfig{}, fmt.Errorf("loading the AWS configuration: %w (check AWS_PROFILE and ~/.aws/config)", err)
		}
	}
	cfg.Region = region
	out, err := ecr.NewFromConfig(cfg).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return authn.AuthConfig{}, fmt.Errorf("GetAuthorizationToken: %w (the AWS credentials need ecr:GetAuthorizationToken)", err)
	}
	if len(out.AuthorizationData) == 0 || out.AuthorizationData[0].AuthorizationToken == nil {
		return authn.AuthConfig{}, errors.New("GetAuthorizationToken returned no token")
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	if err != nil {
		return authn.AuthConfig{}, fmt.Errorf("GetAuthorizationToken returned a token that is not base64: %w", err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return authn.AuthConfig{}, errors.New("GetAuthorizationToken returned a token that is not user:password")
	}
	return authn.AuthConfig{Username: user, Password: pass}, nil
}

// Keychain is lambdapack's credential chain: ECR through the AWS SDK, then
// the docker config, else anonymous.
func Keychain() authn.Keychain {
	return authn.NewMultiKeychain(&ECRKeychain{}, authn.DefaultKeychain)
}
