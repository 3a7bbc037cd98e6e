// Package remote talks to container registries for lambdapack: it resolves
// and pulls bases and pushes built images, through go-containerregistry,
// with the usual credential chain: Amazon ECR registries log in through the
// AWS SDK's GetAuthorizationToken (no docker CLI, no credential helper),
// every other registry through the docker config (~/.docker/config.json
// and its credential helpers), else anonymously (public.ecr.aws serves its
// images anonymously).
//
// Every request has a deadline: a response must start within
// HeaderTimeout and a body that stalls for IdleTimeout is cut off.
package remote
