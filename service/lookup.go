package service

import (
	"context"
	"errors"

	"github.com/capmatch/capmatch/models"
)

// lookup is the one way a use case reads a need, an offer, an engagement or a project by id on
// behalf of an actor. The read model answers when it holds the object and the actor may use
// it. Otherwise, whether the model does not hold it (it does not exist, or this replica has
// not heard of it yet) or holds it out of the actor's reach (its visibility may have changed
// on another replica), the store is asked, the model refreshed, and the policy decides again.
// So an object the actor may not see and one that does not exist take the same steps (one
// read of the store) and end in the same error, and an id's existence cannot be told from
// the answer or from its cost.
func lookup[T any](ctx context.Context, id, kind string,
	fromModel func(string) (*T, bool), fromStore func(context.Context, string) (*T, error), remember func(*T) bool,
	version func(*T) int64, authorize func(*T) error) (*T, error) {
	if !models.ValidID(id) {
		return nil, notFound(kind)
	}
	held, inModel := fromModel(id)
	if inModel && authorize(held) == nil {
		return held, nil
	}
	x, err := fromStore(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, notFound(kind)
	}
	if err != nil {
		return nil, err
	}
	if !inModel || version(x) > version(held) {
		remember(x) // a newer version than this replica held; the same one stays as it was
	} else {
		x = held
	}
	if err := authorize(x); err != nil {
		return nil, err
	}
	return x, nil
}

// notFound is the answer for an object that does not exist or that the actor may not see: the
// same text as the policy's, so the two cannot be told apart.
func notFound(kind string) error { return models.Errorf(models.ErrNotFound, "%s not found", kind) }
