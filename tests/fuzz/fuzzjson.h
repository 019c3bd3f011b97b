/*
 * tests/fuzz/fuzzjson.h: json-c in strict mode as the fuzz targets'
 * oracle of what is JSON (include fuzzfail.h first).
 */
#ifndef KT_FUZZJSON_H
#define KT_FUZZJSON_H

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/*
 * Does json-c (tok, strict) take all of s[0..len) as one value?  With out,
 * the value is handed over when it does (the caller puts it).
 */
static int jsonc_accepts(struct json_tokener *tok, const char *s, size_t len,
			 struct json_object **out)
{
	char *b = malloc(len + 1);
	struct json_object *o;
	size_t end;
	int ok;

	if (b == NULL)
		violated("memory", "malloc(%zu) failed", len + 1);
	memcpy(b, s, len);
	b[len] = '\0';
	json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, b, (int)len + 1);
	end = json_tokener_get_parse_end(tok);
	ok = json_tokener_get_error(tok) == json_tokener_success &&
	    (end == len || end == len + 1);
	free(b);
	if (out != NULL && ok)
		*out = o;
	else
		json_object_put(o);
	return ok;
}

#endif /* KT_FUZZJSON_H */
