package inventory

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// PagedReader lists through an uncached client in pages, so that a one-shot
// scan of a large cluster never asks the API server for one huge response.
type PagedReader struct {
	client.Reader
	// PageSize is the number of objects per page; 0 means 500.
	PageSize int64
}

// List lists every page into list.
func (r PagedReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	size := r.PageSize
	if size <= 0 {
		size = 500
	}
	var all []runtime.Object
	cont := ""
	for {
		page := list.DeepCopyObject().(client.ObjectList)
		pageOpts := append(append([]client.ListOption{}, opts...), client.Limit(size))
		if cont != "" {
			pageOpts = append(pageOpts, client.Continue(cont))
		}
		if err := r.Reader.List(ctx, page, pageOpts...); err != nil {
			return err
		}
		items, err := meta.ExtractList(page)
		if err != nil {
			return fmt.Errorf("reading a page of %T: %w", page, err)
		}
		all = append(all, items...)
		cont = page.GetContinue()
		if cont == "" {
			if err := meta.SetList(list, all); err != nil {
				return fmt.Errorf("assembling %T: %w", list, err)
			}
			list.SetResourceVersion(page.GetResourceVersion())
			return nil
		}
	}
}
