"""What a file error of the operating system means, in Russian (the system's own text,
`strerror`, is English). The journal's loaders (the production calendar) and the service's
(hotline.toml, the CLI's files) name a file they cannot read with these words."""

from __future__ import annotations

import errno

OS_REASONS = {
    errno.ENOENT: "нет такого файла или папки",
    errno.EACCES: "нет доступа",
    errno.EPERM: "нет доступа",
    errno.EISDIR: "это папка, а не файл",
    errno.ENOTDIR: "часть пути не папка",
    errno.ENOSPC: "нет места на диске",
    errno.EROFS: "файловая система только для чтения",
    errno.EEXIST: "уже существует",
    errno.EIO: "ошибка ввода-вывода",
    errno.ENAMETOOLONG: "слишком длинное имя",
    errno.ELOOP: "символические ссылки ведут по кругу",
    errno.EMFILE: "открыто слишком много файлов",
    errno.EBUSY: "файл занят",
}


def os_reason(exc: OSError) -> str:
    """The errno's meaning in Russian; an unforeseen one by its number, never in English."""
    if exc.errno in OS_REASONS:
        return OS_REASONS[exc.errno]
    return f"системная ошибка № {exc.errno}" if exc.errno else "системная ошибка"
