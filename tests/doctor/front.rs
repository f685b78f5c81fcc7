//! A fake front of the environment whose clock is off: the emulator's
//! discovery under its own URL, with a `Date` header moved.

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

/// Serves `/.well-known/openid-configuration` as `emulator` does, under its
/// own URL as the issuer, with a `Date` header `skew` off; its JWKS is the
/// emulator's.
pub async fn skewed_front(emulator: &Url, skew_secs: u64) -> Url {
    let discovery: Value =
        reqwest::get(emulator.join("/.well-known/openid-configuration").unwrap())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!(
        "http://localhost:{}",
        listener.local_addr().unwrap().port()
    ))
    .unwrap();
    let mut document = discovery;
    document["issuer"] = Value::String(url.as_str().trim_end_matches('/').to_owned());
    let body = document.to_string();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let mut head = vec![0_u8; 4096];
                let _ = stream.read(&mut head).await;
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                let date = http_date(now + skew_secs);
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: {date}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    url
}

/// An IMF-fixdate (`Fri, 04 Dec 2026 15:00:00 GMT`) for seconds since 1970.
fn http_date(unix: u64) -> String {
    let (days, rest) = (unix / 86_400, unix % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{weekday}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        months[(month - 1) as usize],
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[test]
fn http_dates_are_imf_fixdates() {
    assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_eq!(http_date(1_796_396_400), "Fri, 04 Dec 2026 15:00:00 GMT");
    assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
}
