/**
 * A tiny element builder. Strings become text nodes, so data shown through it
 * is never parsed as HTML.
 */

/** Attributes and listeners of an element built with `h`. */
export interface Props {
  className?: string;
  testId?: string;
  attrs?: Record<string, string>;
  onClick?: (event: MouseEvent) => void;
}

/** A child of `h`: an element, text, or nothing. */
export type Child = Node | string | null | undefined | false;

/** Builds an element with its attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.className !== undefined) element.className = props.className;
  if (props.testId !== undefined) element.dataset.testid = props.testId;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    element.setAttribute(name, value);
  }
  const onClick = props.onClick;
  if (onClick !== undefined) {
    element.addEventListener("click", (event) => {
      onClick(event as MouseEvent);
    });
  }
  append(element, children);
  return element;
}

/** Appends children (strings as text nodes). */
export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/** A button of the house style. */
export function button(
  label: string,
  onClick: () => void,
  options: { variant?: "primary" | "danger"; size?: "small" | "large"; testId?: string; label?: string } = {},
): HTMLButtonElement {
  const classes = ["button"];
  if (options.variant !== undefined) classes.push(`button-${options.variant}`);
  if (options.size !== undefined) classes.push(`button-${options.size}`);
  const props: Props = { className: classes.join(" "), attrs: { type: "button" }, onClick };
  if (options.testId !== undefined) props.testId = options.testId;
  if (options.label !== undefined) props.attrs = { ...props.attrs, "aria-label": options.label };
  return h("button", props, label);
}

/** An image that follows the colour scheme: `light` normally, `dark` in dark mode. */
export function themedImage(light: string, dark: string, className: string, alt: string): HTMLElement {
  const picture = h("picture");
  const source = h("source", { attrs: { media: "(prefers-color-scheme: dark)" } });
  source.srcset = dark;
  const image = h("img", { className, attrs: { alt, width: "32", height: "32" } });
  image.src = light;
  append(picture, [source, image]);
  return picture;
}
