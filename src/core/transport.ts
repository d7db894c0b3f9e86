// The Transport role: datagrams in and out over opaque socket ids (UDP ports, a TCP relay tunnel, an in-memory double), several behind one multiplexer.
import type { InetAddress } from "../vl1/inet_address.ts";

/** Called for every datagram received on socket `localSocket` (an opaque id of the transport). */
export type DatagramHandler = (localSocket: number, remote: InetAddress, data: Uint8Array) => void;

/** Counters every transport keeps (implementations may add more). */
export interface TransportStats {
  /** Datagrams received. */
  received: number;
  /** Datagrams sent. */
  sent: number;
  /** Sends that failed or were dropped. */
  sendErrors: number;
  /** Exceptions thrown by the receive handler. */
  handlerErrors: number;
}

/**
 * One datagram transport: a set of sockets with opaque ids (the model is wireguard-go's
 * `conn.Bind`). Datagrams are received by the {@link DatagramHandler} given when the transport is
 * opened; the core's `receive` is that handler, or a multiplexer in front of it
 * (`src/service/transport_mux.ts` puts UDP ports and the TCP fallback tunnel behind one
 * transport, mapping each transport's ids into one id space). Sends are synchronous; a
 * transport may queue them until {@link flush}.
 */
export interface Transport {
  /** Counters (live). */
  readonly stats: TransportStats;
  /**
   * Sends one datagram from socket `localSocket` (-1 = any suitable socket) to `remote`, with IP
   * TTL `ttl` for this datagram only when given. `data` is not retained (the caller may reuse
   * its buffer at once). False if it could not be sent or queued.
   */
  send(localSocket: number, remote: InetAddress, data: Uint8Array, ttl?: number): boolean;
  /**
   * Runs the code of {@link send} for one datagram without sending or counting it (the socket
   * call is made with no message): a rehearsal (see `Core.rehearse`). Optional.
   */
  rehearseSend?(localSocket: number, remote: InetAddress, data: Uint8Array): void;
  /** Hands queued datagrams on now ("end of batch"; optional, a no-op if absent). */
  flush?(): void;
  /** Local addresses bound, with the port. */
  boundAddresses(): InetAddress[];
  /** Whether any socket is bound to a wildcard address of `family`. */
  hasWildcard(family: 4 | 6): boolean;
  /** Closes every socket (idempotent). */
  close(): Promise<void>;
}
