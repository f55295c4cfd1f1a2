/*
 * ftp_data.h - the server-side data connection an FTP-speaking proxy
 * opens for its client (ftppr and ftp:// URLs in the HTTP proxy).
 */
#ifndef PX_FTP_DATA_H
#define PX_FTP_DATA_H

#include "os.h"

struct client;
struct ftp_conn;

/* PASV (or EPSV) at the server fc is logged in to, authorize the data
 * address it names as FTP_DATA with the client's ACL (acl-auth.md 4.3;
 * the request's own operation and address are kept), then connect to
 * it from the service's external address within the CONNECT timeout.
 * Returns 0 and the socket in *ds, an ftp_client.h FTP_E_* code, or the
 * ACL code. */
int ftp_data_open(struct client *cl, struct ftp_conn *fc, os_sock_t *ds);

#endif
