// The exported site's search (search.html), in the reader's browser: Pagefind's client over
// the index that `paperboy export-site` builds into pagefind/ from the paper pages. It reads
// the query from ?q= (where the search forms send it) and lists the papers the way the
// server's search page does. Results are built as DOM nodes from text, never as HTML, so
// nothing a paper says can become markup. Paperboy's own server answers search.html itself.

const RESULTS = 30;
const MAX_QUERY = 200;

const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const partial = document.getElementById("search-partial");
const partialHeading = document.getElementById("search-partial-heading");
const count = document.getElementById("search-count");
const input = document.querySelector("form.search-page input[name=q]");

function say(text) {
  status.textContent = text;
  status.hidden = !text;
}

function element(name, className, ...children) {
  const node = document.createElement(name);
  if (className) node.className = className;
  node.append(...children);
  return node;
}

// Pagefind's excerpt is the page's text with < and > escaped and <mark> around the words
// found: split on the marks, and put the text back as text.
function excerpt(marked) {
  const snippet = element("span", "snippet");
  let inside = false;
  for (const part of marked.split(/(<\/?mark>)/)) {
    if (part === "<mark>" || part === "</mark>") {
      inside = part === "<mark>";
      continue;
    }
    // (Pagefind leaves & as it is, so text that itself spells "&lt;" shows as "<".)
    const text = part.replaceAll("&lt;", "<").replaceAll("&gt;", ">");
    snippet.append(inside ? element("mark", "", text) : text);
  }
  return snippet;
}

function result(data) {
  const meta = data.meta || {};
  // Pagefind's URLs are paths from the host's root, wherever the site lives (it counts from the
  // folder above pagefind/: "/repo/papers/ID.html" on a GitHub Pages project site).
  const link = element("a", "", meta.title || data.url);
  link.href = data.url;
  const item = element("li", "", element("span", "date", meta.date || ""), " ", link);
  const tags = (meta.tags || "").split(/\s+/).filter(Boolean);
  if (tags.length) {
    const shown = element("span", "tags");
    tags.forEach((tag, n) => {
      const tagLink = element("a", "", `#${tag}`);
      tagLink.href = `tags/${encodeURIComponent(tag)}.html`;
      shown.append(...(n ? [" ", tagLink] : [tagLink]));
    });
    item.append(" ", shown);
  }
  item.append(element("br"), excerpt(data.excerpt || ""));
  return item;
}

async function main() {
  const params = new URLSearchParams(window.location.search);
  if (!params.has("q")) {
    say("");
    return;
  }
  const query = params.get("q").slice(0, MAX_QUERY);
  input.value = query;
  if (!query.trim()) {
    say("Type a word or two to search for.");
    return;
  }
  document.title = `${query} · Search · Paperboy`;
  say("Searching…");
  let pagefind;
  try {
    pagefind = await import("./pagefind/pagefind.js");
  } catch {
    say("The search index could not be loaded (was the site exported with it?). Browse the archive by day or by tag instead.");
    return;
  }
  const found = await pagefind.search(query);
  const total = found.results.length;
  count.textContent = `${total} ${total === 1 ? "paper" : "papers"}`;
  count.hidden = false;
  const some = await someOfTheWords(pagefind, query, new Set(found.results.map((hit) => hit.id)));
  if (some.length) {
    const shown = await Promise.all(some.slice(0, RESULTS).map((hit) => hit.data()));
    partial.replaceChildren(...shown.map(result));
    partial.hidden = partialHeading.hidden = false;
  }
  if (!total) {
    say(
      `No published paper matches every word of “${query}”.` +
        (some.length ? " Below, papers that match some of them." : ""),
    );
    return;
  }
  const shown = await Promise.all(found.results.slice(0, RESULTS).map((hit) => hit.data()));
  list.replaceChildren(...shown.map(result));
  list.hidden = false;
  say(total > RESULTS ? `The best ${RESULTS} are shown: add a word to narrow the search.` : "");
}

// Papers that match some of the words but not all: "vector quantization" should still lead to
// a paper on "image quantization" with a VQ codebook. Most words matched first, then the best
// rank any one word gave; the papers that match every word are listed above, not here.
async function someOfTheWords(pagefind, query, already) {
  const words = [...new Set(query.split(/\s+/).filter(Boolean))];
  if (words.length < 2) return [];
  const seen = new Map();
  for (const word of words) {
    const found = await pagefind.search(word);
    found.results.forEach((hit, rank) => {
      if (already.has(hit.id)) return;
      const entry = seen.get(hit.id) || { hit, words: 0, rank };
      entry.words += 1;
      entry.rank = Math.min(entry.rank, rank);
      seen.set(hit.id, entry);
    });
  }
  return [...seen.values()].sort((a, b) => b.words - a.words || a.rank - b.rank).map((entry) => entry.hit);
}

// aria-busy tells assistive technology (and the tests) when the results are in.
list.setAttribute("aria-busy", "true");
main()
  .catch((error) => say(`The search failed: ${error.message || error}`))
  .finally(() => list.setAttribute("aria-busy", "false"));
