package api

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// jsonFields lists the JSON names of a struct's fields, embedded structs'
// fields included.
func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous && name == "":
			out = append(out, jsonFields(f.Type)...)
		case name != "" && name != "-":
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Every schema of openapi.json has exactly the fields of the Go type that
// reads or writes it.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIJSON, &doc); err != nil {
		t.Fatal(err)
	}
	types := map[string]any{
		"ConnectLinkRequest": connectLinkRequest{}, "ConnectLink": connectLinkJSON{},
		"ConnectionRequest": connectionRequest{}, "Connection": connectionJSON{}, "ConnectionList": connectionList{},
		"TokenURLsRequest": tokenURLsRequest{}, "TokenURLs": tokenURLsReply{},
		"Who": who{}, "TokenRequest": tokenRequest{}, "Token": tokenReply{},
		"BatchRequest": batchRequest{}, "BatchItem": batchItem{}, "BatchReply": batchReply{},
		"BotRequest": botRequest{}, "Bot": botJSON{}, "BotEvent": botEventJSON{}, "BotList": botList{},
		"Error": errorReply{},
	}
	for name, v := range types {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("no schema %s", name)
			continue
		}
		var props []string
		for p := range s.Properties {
			props = append(props, p)
		}
		slices.Sort(props)
		if want := jsonFields(reflect.TypeOf(v)); !slices.Equal(props, want) {
			t.Errorf("schema %s has %v, the Go type %v", name, props, want)
		}
	}
}
