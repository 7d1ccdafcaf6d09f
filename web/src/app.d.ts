// See https://svelte.dev/docs/kit/types#app.d.ts for the interfaces in the App namespace.
declare global {
  namespace App {
    // interface Error {}
    // interface Locals {}
    // interface PageData {}
    interface PageState {
      /** The host page after brushing a chart: the search string it zoomed from ("Back" returns there). */
      zoomedFrom?: string;
    }
    // interface Platform {}
  }
}

export {};
