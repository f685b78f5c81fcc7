/**
 * The app's logo as inline SVG. An `<img>` of an SVG file is loaded and
 * decoded as a separate document, which holds back the page's `load` event
 * and with it WebKit's first paint (docs/benchmarks.md, cold start); inline
 * SVG is part of the page. The same drawing is in `static/images/logo.svg`
 * and inline in `static/index.html`'s header.
 */

const SVG = "http://www.w3.org/2000/svg";

function svg(tag: string, attrs: Record<string, string>): SVGElement {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  return element;
}

/** The logo, `size` pixels square, hidden from assistive technology. */
export function logo(size: number): SVGElement {
  const root = svg("svg", {
    viewBox: "0 0 32 32",
    width: String(size),
    height: String(size),
    "aria-hidden": "true",
    focusable: "false",
  });
  const stroke = { fill: "none", stroke: "#fff", "stroke-width": "2.5" };
  root.append(
    svg("rect", { width: "32", height: "32", rx: "8", fill: "#2f6feb" }),
    svg("circle", { cx: "13", cy: "13", r: "5", ...stroke }),
    svg("path", { d: "M16.5 16.5 25 25m-4-4 2.5-2.5m-5 0 2 2", ...stroke, "stroke-linecap": "round" }),
  );
  return root;
}
