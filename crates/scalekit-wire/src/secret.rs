//! The one idiom for secret values: [`secret_newtype!`](crate::secret_newtype).

/// Declares a newtype for a secret string: `Debug` prints `Name([redacted])`,
/// there is no `Display`, and the value is reached only through `.secret()`.
///
/// `serialize` adds a `Serialize` that writes the value itself (only for a
/// response that hands the secret to its owner, or a store that keeps it);
/// `serde` adds a transparent `Deserialize` as well.
///
/// ```
/// scalekit_wire::secret_newtype! {
///     /// A confidential client's secret.
///     pub ClientSecret
/// }
/// let secret = ClientSecret::new("s3cret");
/// assert_eq!(format!("{secret:?}"), "ClientSecret([redacted])");
/// assert_eq!(secret.secret(), "s3cret");
/// ```
#[macro_export]
macro_rules! secret_newtype {
    ($(#[$meta:meta])* $vis:vis $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq)]
        $vis struct $name(String);

        impl $name {
            /// Wraps a secret value.
            $vis fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret value itself: only where it is sent or checked, never logged.
            $vis fn secret(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
    ($(#[$meta:meta])* $vis:vis $name:ident, serialize) => {
        $crate::secret_newtype!($(#[$meta])* $vis $name);

        /// Serializes the secret value itself.
        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
    };
    ($(#[$meta:meta])* $vis:vis $name:ident, serde) => {
        $crate::secret_newtype!($(#[$meta])* $vis $name, serialize);

        /// Reads the secret value itself (a plain string).
        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                <String as $crate::__private::serde::Deserialize>::deserialize(deserializer).map(Self)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::secret_newtype! {
        /// A test secret.
        pub(crate) Plain
    }
    crate::secret_newtype! {
        /// A test secret that is stored.
        pub(crate) Stored, serde
    }

    #[test]
    fn debug_is_redacted_and_serde_is_opt_in() {
        let plain = Plain::new("p4ss");
        assert_eq!(format!("{plain:?}"), "Plain([redacted])");
        assert_eq!(plain.secret(), "p4ss");
        let stored = Stored::new("s3cret");
        assert_eq!(format!("{stored:?}"), "Stored([redacted])");
        assert_eq!(stored.secret(), "s3cret");
        let json = serde_json::to_string(&stored).unwrap();
        assert_eq!(json, "\"s3cret\"");
        assert_eq!(serde_json::from_str::<Stored>(&json).unwrap(), stored);
    }
}
