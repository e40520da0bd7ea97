/* Lora Alchemy: the site search understands word forms ("merged" finds "merging", "checks" finds
   "checked") while file-name fragments ("Lightning_4steps", "1.3B") still match as typed.

   The theme's search index keeps words as written (no stemmer: the theme appends a wildcard to every query
   word, and a wildcard word is never stemmed, so a stemmed index would miss "lightning*"). This worker
   loads the theme's own worker (its address comes from overrides/main.html, same origin only) and rewrites
   each query word w into its stem s, which the theme then searches as s*: "merged" -> "merg*" finds
   "merging" and "merged"; when s is not a prefix of w ("happy" -> "happi") both are searched.
   A number on its own is searched whole ("4^1": the theme adds no wildcard to a boosted word), so "4" no
   longer finds "480p" or "4096"; a number followed by a word is also searched joined, as file names write it:
   "4 steps" finds "4steps", "1.3 B" finds "1.3B". */
(function () {
  "use strict";
  var named = new URL(self.location.href).searchParams.get("worker");
  var target = named ? new URL(named, self.location.href) : null;
  if (!target || target.origin !== self.location.origin) {
    throw new Error("search worker: refusing to load " + named);
  }

  function stem(word) {
    return self.lunr.stemmer(new self.lunr.Token(word, {})).toString();
  }

  /* One whitespace-separated part of the query; parts with search syntax (+word, -word, word~1, field:,
     "quotes", word*) are left as they are. */
  function withWordForms(part) {
    if (!part || /^[+-]|[~^*:"]/.test(part)) return part;
    var words = part.toLowerCase().split(self.lunr.tokenizer.separator).filter(Boolean);
    return words.map(function (word) {
      var root = stem(word);
      return word.indexOf(root) === 0 ? root : word + " " + root;
    }).join(" ");
  }

  var NUMBER = /^\d+(?:\.\d+)?$/;

  function rewrite(query) {
    if (!self.lunr || !self.lunr.stemmer || !self.lunr.tokenizer || !self.lunr.tokenizer.separator) return query;
    var parts = query.split(/\s+/);
    var words = parts.map(function (part, i) {
      if (!NUMBER.test(part)) return withWordForms(part);
      var next = parts[i + 1];
      var joined = next && /^[a-z]+$/i.test(next) ? " " + withWordForms(part + next) : "";
      return part + "^1" + joined;
    });
    return words.join(" ").trim() || query;
  }

  /* The theme's worker answers {type: 2, data: query}; every other message passes unchanged. */
  var listen = self.addEventListener.bind(self);
  self.addEventListener = function (type, listener, options) {
    if (type !== "message") return listen(type, listener, options);
    return listen(type, function (event) {
      var message = event.data;
      if (message && message.type === 2 && typeof message.data === "string") {
        return listener.call(self, { data: { type: 2, data: rewrite(message.data) } });
      }
      return listener.call(self, event);
    }, options);
  };
  importScripts(target.href);
})();
