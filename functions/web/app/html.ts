// htm over Preact: tagged templates instead of JSX, so the sources need no JSX transform and read
// as HTML.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
