<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ru_RU">
<context>
    <name>Assumptions</name>
    <message>
        <source>{where} must be a probability between 0 and 1, not {value}</source>
        <translation>{where}: нужна вероятность от 0 до 1, а не {value}</translation>
    </message>
    <message>
        <source>event_entry is ‘history’ or ‘rate’</source>
        <translation>event_entry — это «history» или «rate»</translation>
    </message>
    <message>
        <source>unknown assumption keys: {keys}</source>
        <translation>неизвестные ключи допущений: {keys}</translation>
    </message>
    <message>
        <source>‘{channel}’ is not a channel ({channels})</source>
        <translation>«{channel}» — не канал ({channels})</translation>
    </message>
    <message>
        <source>the multiplier for tag ‘{tag}’ must be 0 or more</source>
        <translation>множитель для тега «{tag}» должен быть 0 или больше</translation>
    </message>
    <message>
        <source>the rate of ‘{event}’ must be 0 or more per day</source>
        <translation>частота «{event}» должна быть 0 или больше в день</translation>
    </message>
</context>
<context>
    <name>AssumptionsTable</name>
    <message>
        <source>Delivered</source>
        <translation>Доставлено</translation>
    </message>
    <message>
        <source>Opened</source>
        <translation>Открыто</translation>
    </message>
    <message>
        <source>Clicked</source>
        <translation>Клик</translation>
    </message>
    <message>
        <source>Bought</source>
        <translation>Покупка</translation>
    </message>
    <message>
        <source>Bought (offer)</source>
        <translation>Покупка (оффер)</translation>
    </message>
    <message>
        <source>Replied</source>
        <translation>Ответ</translation>
    </message>
    <message>
        <source>Share of contacts who do this within a wait-for-event&apos;s timeout after a message on the channel. Grey: published benchmark (docs/SIMULATION.md); bold: your figure. Clear a cell to go back to the benchmark.</source>
        <translation>Доля контактов, которые делают это в пределах таймаута ожидания события после сообщения по каналу. Серым — опубликованные отраслевые значения (docs/SIMULATION.md); жирным — ваши. Очистите ячейку, чтобы вернуть отраслевое значение.</translation>
    </message>
    <message>
        <source>{channel} · {what}: ‘{text}’ is not a percentage between 0 and 100</source>
        <translation>{channel} · {what}: «{text}» — не процент от 0 до 100</translation>
    </message>
    <message>
        <source>Set {channel}: {what}</source>
        <translation>Задать {channel}: {what}</translation>
    </message>
</context>
<context>
    <name>Background</name>
    <message>
        <source>Unexpected error ({kind}): {error}</source>
        <translation>Непредвиденная ошибка ({kind}): {error}</translation>
    </message>
</context>
<context>
    <name>CLI</name>
    <message>
        <source>Design, validate, simulate and export marketing auto-funnels.</source>
        <translation>Проектирование, проверка, симуляция и экспорт маркетинговых автоворонок.</translation>
    </message>
    <message>
        <source>cannot be written: {problem}</source>
        <translation>не удаётся записать: {problem}</translation>
    </message>
    <message>
        <source>the export target</source>
        <translation>формат экспорта</translation>
    </message>
    <message>
        <source>where to write (default: stdout)</source>
        <translation>куда записать (по умолчанию: стандартный вывод)</translation>
    </message>
    <message>
        <source>cannot be read: {problem}</source>
        <translation>не удаётся прочитать: {problem}</translation>
    </message>
    <message>
        <source>{target} export of ‘{name}’</source>
        <translation>экспорт {target}: «{name}»</translation>
    </message>
    <message>
        <source>export a scenario: runtime JSON, Step Functions, BPMN and Mermaid for engines, pictures and reports for people</source>
        <translation>экспорт сценария: JSON, Step Functions, BPMN и Mermaid для движков, картинки и отчёты для людей</translation>
    </message>
    <message>
        <source>Export a scenario. Engine formats (runtime, asl, bpmn, mermaid): only a scenario without validation errors exports; constructs the target cannot express are reported on stderr as warnings naming the steps (docs/EXPORTS.md). png/svg/pdf: the diagram; html/report-pdf: the report. Exit status: 0 written, 1 validation errors or bad options, 2 the file could not be read or written.</source>
        <translation>Экспорт сценария. Форматы для движков (runtime, asl, bpmn, mermaid): экспортируется только сценарий без ошибок проверки; то, что формат не может выразить, выводится в stderr предупреждениями с именами шагов (docs/EXPORTS.md). png/svg/pdf: схема; html/report-pdf: отчёт. Код выхода: 0 — записано, 1 — ошибки проверки или неверные параметры, 2 — файл не удалось прочитать или записать.</translation>
    </message>
    <message>
        <source>an engine target&apos;s option, e.g. message_resource=arn:… for asl (repeatable)</source>
        <translation>параметр формата для движка, напр. message_resource=arn:… для asl (можно повторять)</translation>
    </message>
    <message>
        <source>warning: {problem}</source>
        <translation>предупреждение: {problem}</translation>
    </message>
    <message>
        <source>not exported: {problem}</source>
        <translation>не экспортирован: {problem}</translation>
    </message>
    <message>
        <source>contacts</source>
        <translation>контакты</translation>
    </message>
    <message>
        <source>from previous</source>
        <translation>от предыдущего</translation>
    </message>
    <message>
        <source>from start</source>
        <translation>от входа</translation>
    </message>
    <message>
        <source>cannot simulate: {problem}</source>
        <translation>симуляция невозможна: {problem}</translation>
    </message>
    <message>
        <source>stage</source>
        <translation>этап</translation>
    </message>
    <message>
        <source>Converted {converted} ({rate:.1%}), revenue {revenue}, still waiting at the horizon {waiting}</source>
        <translation>Конверсий: {converted} ({rate:.1%}), выручка {revenue}, ещё ждут к концу периода: {waiting}</translation>
    </message>
    <message>
        <source>step</source>
        <translation>шаг</translation>
    </message>
    <message>
        <source>entered</source>
        <translation>вошли</translation>
    </message>
    <message>
        <source>left by exit</source>
        <translation>вышли по выходам</translation>
    </message>
    <message>
        <source>waiting</source>
        <translation>ждут</translation>
    </message>
    <message>
        <source>the numbers of a stored run (see `voronka runs list`) instead of a new one</source>
        <translation>числа сохранённого прогона (см. `voronka runs list`) вместо нового</translation>
    </message>
    <message>
        <source>with --simulate or --run: database URL</source>
        <translation>с --simulate или --run: URL базы данных</translation>
    </message>
    <message>
        <source>run a funnel over the contact database (counts, conversions, revenue)</source>
        <translation>прогнать воронку по базе контактов (количества, конверсии, выручка)</translation>
    </message>
    <message>
        <source>Simulate a scenario over the contacts of a database. Exit status: 0 done, 1 the scenario or the assumptions are invalid, 2 a file or the database cannot be used.</source>
        <translation>Симуляция сценария на контактах базы. Код выхода: 0 — готово, 1 — сценарий или допущения некорректны, 2 — файл или базу нельзя использовать.</translation>
    </message>
    <message>
        <source>database URL (default: $VORONKA_DB or local)</source>
        <translation>URL базы данных (по умолчанию: $VORONKA_DB или локальная)</translation>
    </message>
    <message>
        <source>only contacts matching this condition</source>
        <translation>только контакты, подходящие под условие</translation>
    </message>
    <message>
        <source>horizon in days (default 30)</source>
        <translation>период в днях (по умолчанию 30)</translation>
    </message>
    <message>
        <source>simulated start, ISO date (default: today at midnight)</source>
        <translation>начало симуляции, дата ISO (по умолчанию: сегодня, полночь)</translation>
    </message>
    <message>
        <source>override a probability, e.g. --set wait_purchase.happened=0.1 (repeatable)</source>
        <translation>задать вероятность, напр. --set wait_purchase.happened=0.1 (можно повторять)</translation>
    </message>
    <message>
        <source>Funnel stages — {n} contacts entered</source>
        <translation>Этапы воронки — вошло контактов: {n}</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>Шаги</translation>
    </message>
    <message>
        <source>invalid option: {problem}</source>
        <translation>неверный параметр: {problem}</translation>
    </message>
    <message>
        <source>Reading contacts…</source>
        <translation>Чтение контактов…</translation>
    </message>
    <message>
        <source>database: {problem}</source>
        <translation>база данных: {problem}</translation>
    </message>
    <message>
        <source>comma</source>
        <translation>запятая</translation>
    </message>
    <message>
        <source>semicolon</source>
        <translation>точка с запятой</translation>
    </message>
    <message>
        <source>tab</source>
        <translation>табуляция</translation>
    </message>
    <message>
        <source>{file}: preset {preset}, {encoding}, {delimiter}</source>
        <translation>{file}: пресет {preset}, {encoding}, {delimiter}</translation>
    </message>
    <message>
        <source>events</source>
        <translation>события</translation>
    </message>
    <message>
        <source>reading</source>
        <translation>чтение</translation>
    </message>
    <message>
        <source>writing</source>
        <translation>запись</translation>
    </message>
    <message>
        <source>Database ready: {url} (schema revision {revision})</source>
        <translation>База данных готова: {url} (версия схемы {revision})</translation>
    </message>
    <message>
        <source>Demo data written: {contacts}, {events}, {tags}, {products}.</source>
        <translation>Демо-данные записаны: {contacts}, {events}, {tags}, {products}.</translation>
    </message>
    <message>
        <source>contacts that would be created</source>
        <translation>контактов было бы создано</translation>
    </message>
    <message>
        <source>existing contacts that would be updated</source>
        <translation>существующих контактов было бы обновлено</translation>
    </message>
    <message>
        <source>contacts created</source>
        <translation>создано контактов</translation>
    </message>
    <message>
        <source>existing contacts updated</source>
        <translation>обновлено существующих контактов</translation>
    </message>
    <message>
        <source>{rows} listed above; nothing was written. Fix them, or pass --skip-bad to import the other rows.</source>
        <translation>{rows} — см. выше; ничего не записано. Исправьте их или добавьте --skip-bad, чтобы импортировать остальные строки.</translation>
    </message>
    <message>
        <source>rows read</source>
        <translation>прочитано строк</translation>
    </message>
    <message>
        <source>duplicate rows merged</source>
        <translation>объединено строк-дублей</translation>
    </message>
    <message>
        <source>rows rejected (skipped)</source>
        <translation>отклонено строк (пропущены)</translation>
    </message>
    <message>
        <source>new tags</source>
        <translation>новых тегов</translation>
    </message>
    <message>
        <source>SQLAlchemy database URL (default: ${env}, else an SQLite file in your user data folder); e.g. postgresql+psycopg://user:password@host/dbname</source>
        <translation>URL базы данных SQLAlchemy (по умолчанию ${env}, иначе файл SQLite в папке данных пользователя); например, postgresql+psycopg://user:password@host/dbname</translation>
    </message>
    <message>
        <source>the contact database: init, demo, stats, import, count</source>
        <translation>база контактов: init, demo, stats, import, count</translation>
    </message>
    <message>
        <source>Create, fill and inspect the contact database.</source>
        <translation>Создать, заполнить и посмотреть базу контактов.</translation>
    </message>
    <message>
        <source>create or upgrade the database</source>
        <translation>создать базу данных или обновить её схему</translation>
    </message>
    <message>
        <source>fill the database with plausible demo contacts</source>
        <translation>заполнить базу правдоподобными демо-контактами</translation>
    </message>
    <message>
        <source>how many contacts (default 5000)</source>
        <translation>сколько контактов (по умолчанию 5000)</translation>
    </message>
    <message>
        <source>names, phones and cities of this country (default ru_RU)</source>
        <translation>имена, телефоны и города этой страны (по умолчанию ru_RU)</translation>
    </message>
    <message>
        <source>the same seed gives the same contacts (default 0)</source>
        <translation>одно и то же зерно даёт одни и те же контакты (по умолчанию 0)</translation>
    </message>
    <message>
        <source>the day histories end (default: today); fixes the data for a seed</source>
        <translation>день, которым заканчиваются истории (по умолчанию сегодня); фиксирует данные для зерна</translation>
    </message>
    <message>
        <source>delete existing contacts first</source>
        <translation>сначала удалить существующие контакты</translation>
    </message>
    <message>
        <source>count rows per table, tag and event type</source>
        <translation>посчитать строки по таблицам, тегам и типам событий</translation>
    </message>
    <message>
        <source>import contacts from a CSV export</source>
        <translation>импортировать контакты из выгрузки CSV</translation>
    </message>
    <message>
        <source>Import contacts from a CSV file as CRMs and shops export it. The import is one transaction: if it fails, nothing is written. Exit status: 0 imported, 1 rows were rejected (nothing written unless --skip-bad), 2 the file or the database could not be used. Presets and field names: docs/IMPORT.md.</source>
        <translation>Импорт контактов из CSV-файла в том виде, в каком его выгружают CRM и магазины. Импорт — одна транзакция: при ошибке ничего не записывается. Код выхода: 0 — импортировано, 1 — есть отклонённые строки (без --skip-bad ничего не записано), 2 — файл или базу данных не удалось использовать. Пресеты и имена полей: docs/IMPORT.md.</translation>
    </message>
    <message>
        <source>whose export the file is (default: recognised from the header)</source>
        <translation>чья это выгрузка (по умолчанию определяется по заголовку)</translation>
    </message>
    <message>
        <source>import a column into a field (or attr:&lt;name&gt;; - ignores the column); repeatable</source>
        <translation>импортировать столбец в поле (или attr:&lt;имя&gt;; - пропускает столбец); можно повторять</translation>
    </message>
    <message>
        <source>check and report, write nothing</source>
        <translation>проверить и показать отчёт, ничего не записывая</translation>
    </message>
    <message>
        <source>import the good rows only</source>
        <translation>импортировать только корректные строки</translation>
    </message>
    <message>
        <source>the file&apos;s encoding, when detection is not enough</source>
        <translation>кодировка файла, если автоопределения недостаточно</translation>
    </message>
    <message>
        <source>country calling code for phones written without one, e.g. 1 or 7</source>
        <translation>код страны для телефонов, записанных без него, например 1 или 7</translation>
    </message>
    <message>
        <source>count the contacts a condition selects</source>
        <translation>посчитать контакты, которые выбирает условие</translation>
    </message>
    <message>
        <source>a condition in the expression language, e.g. &quot;cats&quot; in tags</source>
        <translation>условие на языке выражений, например &quot;cats&quot; in tags</translation>
    </message>
    <message>
        <source>the moment of evaluation, UTC (default: now)</source>
        <translation>момент вычисления, UTC (по умолчанию сейчас)</translation>
    </message>
    <message>
        <source>must be at least 1</source>
        <translation>должно быть не меньше 1</translation>
    </message>
    <message numerus="yes">
        <source>{number} contact(s)</source>
        <translation>
            <numerusform>{number} контакт</numerusform>
            <numerusform>{number} контакта</numerusform>
            <numerusform>{number} контактов</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>{number} event(s)</source>
        <translation>
            <numerusform>{number} событие</numerusform>
            <numerusform>{number} события</numerusform>
            <numerusform>{number} событий</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>{number} tag(s)</source>
        <translation>
            <numerusform>{number} тег</numerusform>
            <numerusform>{number} тега</numerusform>
            <numerusform>{number} тегов</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>{number} product(s)</source>
        <translation>
            <numerusform>{number} товар</numerusform>
            <numerusform>{number} товара</numerusform>
            <numerusform>{number} товаров</numerusform>
        </translation>
    </message>
    <message>
        <source>table</source>
        <translation>таблица</translation>
    </message>
    <message>
        <source>rows</source>
        <translation>строки</translation>
    </message>
    <message>
        <source>tag</source>
        <translation>тег</translation>
    </message>
    <message>
        <source>type</source>
        <translation>тип</translation>
    </message>
    <message>
        <source>Columns not imported: {columns}</source>
        <translation>Не импортированы столбцы: {columns}</translation>
    </message>
    <message>
        <source>Dry run: nothing was written.</source>
        <translation>Пробный запуск: ничего не записано.</translation>
    </message>
    <message>
        <source>Tables</source>
        <translation>Таблицы</translation>
    </message>
    <message>
        <source>Tags</source>
        <translation>Теги</translation>
    </message>
    <message>
        <source>Events</source>
        <translation>События</translation>
    </message>
    <message>
        <source>--map {item}: write it as &quot;CSV column=field&quot;</source>
        <translation>--map {item}: запишите как &quot;столбец CSV=поле&quot;</translation>
    </message>
    <message numerus="yes">
        <source>{number} rejected row(s)</source>
        <translation>
            <numerusform>{number} отклонённая строка</numerusform>
            <numerusform>{number} отклонённые строки</numerusform>
            <numerusform>{number} отклонённых строк</numerusform>
        </translation>
    </message>
    <message>
        <source>skipped {where}: {reason}</source>
        <translation>пропущено {where}: {reason}</translation>
    </message>
    <message>
        <source>error:</source>
        <translation>ошибка:</translation>
    </message>
    <message>
        <source>{what} of ‘{name}’</source>
        <translation>{what}: «{name}»</translation>
    </message>
    <message>
        <source>with --simulate</source>
        <translation>с --simulate</translation>
    </message>
    <message numerus="yes">
        <source>PDF report, %n page(s)</source>
        <translation>
            <numerusform>PDF-отчёт, %n страница</numerusform>
            <numerusform>PDF-отчёт, %n страницы</numerusform>
            <numerusform>PDF-отчёт, %n страниц</numerusform>
        </translation>
    </message>
    <message>
        <source>--run {id} is a run of ‘{other}’ ({other_id}), not of ‘{name}’ ({scenario_id})</source>
        <translation>--run {id} — прогон воронки «{other}» ({other_id}), а не «{name}» ({scenario_id})</translation>
    </message>
    <message>
        <source>warning: the funnel changed since run {id} ({when}); the numbers are that version&apos;s</source>
        <translation>предупреждение: воронка изменилась после прогона {id} ({when}); числа относятся к той версии</translation>
    </message>
    <message>
        <source>pictures and reports (png, svg, pdf, html, report-pdf)</source>
        <translation>изображения и отчёты (png, svg, pdf, html, report-pdf)</translation>
    </message>
    <message>
        <source>--to {target} needs -o OUT (the file to write)</source>
        <translation>для --to {target} нужен -o ФАЙЛ (куда записать)</translation>
    </message>
    <message>
        <source>--scale and --dpi are for --to png</source>
        <translation>--scale и --dpi — только для --to png</translation>
    </message>
    <message>
        <source>--simulate makes a new run and --run shows a stored one: give one of them</source>
        <translation>--simulate делает новый прогон, а --run показывает сохранённый: укажите что-то одно</translation>
    </message>
    <message>
        <source>--transparent is for the canvas pictures (png, svg, pdf)</source>
        <translation>--transparent — только для изображений схемы (png, svg, pdf)</translation>
    </message>
    <message>
        <source>HTML report</source>
        <translation>HTML-отчёт</translation>
    </message>
    <message>
        <source>PNG: pixels per diagram pixel (default 2)</source>
        <translation>PNG: пикселей на пиксель схемы (по умолчанию 2)</translation>
    </message>
    <message>
        <source>PNG: dots per inch (96 = scale 1)</source>
        <translation>PNG: точек на дюйм (96 = масштаб 1)</translation>
    </message>
    <message>
        <source>PNG/SVG/PDF: no background behind the diagram</source>
        <translation>PNG/SVG/PDF: без фона под схемой</translation>
    </message>
    <message>
        <source>the colours</source>
        <translation>цветовая тема</translation>
    </message>
    <message>
        <source>simulate over the contact database: flow numbers on the diagram, and the results in a report</source>
        <translation>симулировать на базе контактов: потоки на схеме и результаты в отчёте</translation>
    </message>
    <message>
        <source>with --simulate (default 1)</source>
        <translation>с --simulate (по умолчанию 1)</translation>
    </message>
    <message>
        <source>with --simulate: horizon (30)</source>
        <translation>с --simulate: горизонт в днях (30)</translation>
    </message>
    <message>
        <source>with --simulate: simulated start, ISO date</source>
        <translation>с --simulate: начало симуляции, дата ISO</translation>
    </message>
    <message>
        <source>{option} must be above 0</source>
        <translation>{option} должен быть больше 0</translation>
    </message>
    <message>
        <source>Steps that differ ({shown} of {total})</source>
        <translation>Шаги с различиями ({shown} из {total})</translation>
    </message>
    <message>
        <source>converted</source>
        <translation>конверсий</translation>
    </message>
    <message>
        <source>conversion rate</source>
        <translation>конверсия</translation>
    </message>
    <message>
        <source>revenue</source>
        <translation>выручка</translation>
    </message>
    <message>
        <source>messages</source>
        <translation>сообщений</translation>
    </message>
    <message>
        <source>cost</source>
        <translation>затраты</translation>
    </message>
    <message>
        <source>conversions</source>
        <translation>конверсий</translation>
    </message>
    <message>
        <source>delivered</source>
        <translation>доставлено</translation>
    </message>
    <message>
        <source>unreachable</source>
        <translation>недоступны</translation>
    </message>
    <message>
        <source>scenario</source>
        <translation>сценарий</translation>
    </message>
    <message>
        <source>scenario content</source>
        <translation>содержание сценария</translation>
    </message>
    <message>
        <source>segment</source>
        <translation>сегмент</translation>
    </message>
    <message>
        <source>replications</source>
        <translation>прогонов</translation>
    </message>
    <message>
        <source>contact data version</source>
        <translation>версия данных контактов</translation>
    </message>
    <message>
        <source>seed</source>
        <translation>зерно</translation>
    </message>
    <message>
        <source>horizon, days</source>
        <translation>период, дней</translation>
    </message>
    <message>
        <source>start</source>
        <translation>начало</translation>
    </message>
    <message>
        <source>assumptions</source>
        <translation>допущения</translation>
    </message>
    <message>
        <source>run {id}</source>
        <translation>прогон {id}</translation>
    </message>
    <message>
        <source>Headline</source>
        <translation>Главное</translation>
    </message>
    <message>
        <source>figure</source>
        <translation>показатель</translation>
    </message>
    <message>
        <source>[2.5–97.5 % over replications]; * the ranges do not overlap</source>
        <translation>[2,5–97,5 % по прогонам]; * диапазоны не пересекаются</translation>
    </message>
    <message>
        <source>Funnel stages</source>
        <translation>Этапы воронки</translation>
    </message>
    <message>
        <source>count</source>
        <translation>число</translation>
    </message>
    <message>
        <source>change</source>
        <translation>изменение</translation>
    </message>
    <message>
        <source>change %</source>
        <translation>изменение, %</translation>
    </message>
    <message>
        <source>input</source>
        <translation>входные данные</translation>
    </message>
    <message>
        <source>Same inputs (scenario, segment, seed, horizon, start, assumptions).</source>
        <translation>Входные данные одинаковы (сценарий, сегмент, зерно, период, начало, допущения).</translation>
    </message>
    <message>
        <source>Channels</source>
        <translation>Каналы</translation>
    </message>
    <message>
        <source>channel</source>
        <translation>канал</translation>
    </message>
    <message>
        <source>{points} pp</source>
        <translation>{points} п. п.</translation>
    </message>
    <message>
        <source>Inputs that differ</source>
        <translation>Различия во входных данных</translation>
    </message>
    <message>
        <source>{n} (data version {version})</source>
        <translation>{n} (версия данных {version})</translation>
    </message>
    <message>
        <source>Runs of {name} ({n})</source>
        <translation>Прогоны «{name}» ({n})</translation>
    </message>
    <message>
        <source>Stored runs ({n})</source>
        <translation>Сохранённые прогоны ({n})</translation>
    </message>
    <message>
        <source>label</source>
        <translation>метка</translation>
    </message>
    <message>
        <source>saved</source>
        <translation>сохранён</translation>
    </message>
    <message>
        <source>days·seed·K</source>
        <translation>дни·зерно·K</translation>
    </message>
    <message>
        <source>* the scenario has changed since this run</source>
        <translation>* сценарий изменился после этого прогона</translation>
    </message>
    <message>
        <source>scenario hash</source>
        <translation>хеш сценария</translation>
    </message>
    <message>
        <source>database URL (default: ${env}, else the local file)</source>
        <translation>URL базы данных (по умолчанию: ${env}, иначе локальный файл)</translation>
    </message>
    <message>
        <source>stored simulation runs: list, show, compare</source>
        <translation>сохранённые прогоны симуляции: список, просмотр, сравнение</translation>
    </message>
    <message>
        <source>Simulation runs stored with `voronka simulate --save`. Exit status: 0 done, 1 no such run, 2 a file or the database cannot be used.</source>
        <translation>Прогоны симуляции, сохранённые командой `voronka simulate --save`. Код выхода: 0 — готово, 1 — такого прогона нет, 2 — файл или базу данных нельзя использовать.</translation>
    </message>
    <message>
        <source>the stored runs, newest first</source>
        <translation>сохранённые прогоны, новые сначала</translation>
    </message>
    <message>
        <source>only the runs of this scenario</source>
        <translation>только прогоны этого сценария</translation>
    </message>
    <message>
        <source>at most N runs</source>
        <translation>не больше N прогонов</translation>
    </message>
    <message>
        <source>one run: inputs and results</source>
        <translation>один прогон: входные данные и результаты</translation>
    </message>
    <message>
        <source>two runs side by side (the second against the first)</source>
        <translation>два прогона рядом (второй относительно первого)</translation>
    </message>
    <message>
        <source>list every step, not only those that differ</source>
        <translation>показать все шаги, а не только различающиеся</translation>
    </message>
    <message>
        <source>everyone</source>
        <translation>все</translation>
    </message>
    <message>
        <source>Run {id}</source>
        <translation>Прогон {id}</translation>
    </message>
    <message>
        <source>store the run in the database (see `voronka runs`) and print its id</source>
        <translation>сохранить прогон в базе данных (см. `voronka runs`) и вывести его номер</translation>
    </message>
    <message>
        <source>a name for the stored run (with --save)</source>
        <translation>название сохраняемого прогона (вместе с --save)</translation>
    </message>
    <message>
        <source>Saved as run {id}.</source>
        <translation>Сохранено как прогон {id}.</translation>
    </message>
    <message>
        <source>--label names a stored run: add --save</source>
        <translation>--label задаёт название сохраняемого прогона: добавьте --save</translation>
    </message>
    <message>
        <source>‘{setting}’: write NODE.KEY=PROBABILITY, e.g. wait_buy.happened=0.1</source>
        <translation>«{setting}»: пишите ШАГ.КЛЮЧ=ВЕРОЯТНОСТЬ, напр. wait_buy.happened=0.1</translation>
    </message>
    <message>
        <source>Saving the run…</source>
        <translation>Сохранение прогона…</translation>
    </message>
    <message>
        <source>error</source>
        <translation>ошибка</translation>
    </message>
    <message>
        <source>warning</source>
        <translation>предупр.</translation>
    </message>
    <message>
        <source>note</source>
        <translation>заметка</translation>
    </message>
    <message>
        <source>{errors}, {warnings}</source>
        <translation>{errors}, {warnings}</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>check scenario files: every exit of every step must be handled</source>
        <translation>проверить файлы сценариев: у каждого шага должен быть обработан каждый выход</translation>
    </message>
    <message>
        <source>Print the problems of each scenario file. Exit status: 0 no errors, 1 errors (or warnings with --strict), 2 a file could not be read.</source>
        <translation>Вывести проблемы каждого файла сценария. Код выхода: 0 — нет ошибок, 1 — ошибки (или предупреждения с --strict), 2 — файл не удалось прочитать.</translation>
    </message>
    <message>
        <source>warnings fail too</source>
        <translation>предупреждения тоже считаются провалом</translation>
    </message>
    <message>
        <source>{title} ({id}, exit {exit})</source>
        <translation>{title} ({id}, выход {exit})</translation>
    </message>
    <message>
        <source>{title} ({id})</source>
        <translation>{title} ({id})</translation>
    </message>
    <message numerus="yes">
        <source>%n error(s)</source>
        <translation>
            <numerusform>%n ошибка</numerusform>
            <numerusform>%n ошибки</numerusform>
            <numerusform>%n ошибок</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n warning(s)</source>
        <translation>
            <numerusform>%n предупреждение</numerusform>
            <numerusform>%n предупреждения</numerusform>
            <numerusform>%n предупреждений</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>CSV import</name>
    <message>
        <source>text follows a closing quote; a field that starts with a quote must end with a quote right before the delimiter (write a quote inside a field as &quot;&quot;)</source>
        <translation>после закрывающей кавычки идёт текст; поле, которое начинается с кавычки, должно кончаться кавычкой прямо перед разделителем (кавычку внутри поля пишите как &quot;&quot;)</translation>
    </message>
    <message>
        <source>line {line}: {problem}</source>
        <translation>строка {line}: {problem}</translation>
    </message>
    <message>
        <source>the columns do not look like a known export (Shopify, Mailchimp, HubSpot, amoCRM, Bitrix24); choose --preset or map columns with --map &quot;CSV column=field&quot;. The header is: {header}</source>
        <translation>столбцы не похожи на известную выгрузку (Shopify, Mailchimp, HubSpot, amoCRM, Bitrix24); выберите --preset или сопоставьте столбцы через --map &quot;столбец CSV=поле&quot;. Заголовок: {header}</translation>
    </message>
    <message>
        <source>--map {column}={target}: {quoted} is not a field; use one of: {fields}, attr:&lt;name&gt;, ! before a yes/no field to invert it, or - to ignore the column</source>
        <translation>--map {column}={target}: {quoted} — не поле; используйте одно из: {fields}, attr:&lt;имя&gt;, ! перед полем «да/нет», чтобы обратить его, или -, чтобы пропустить столбец</translation>
    </message>
    <message>
        <source>the file contains NUL bytes: it is a binary file (an .xlsx?) or UTF-16 without a byte order mark; export it from your CRM as CSV</source>
        <translation>в файле есть байты NUL: это двоичный файл (.xlsx?) или UTF-16 без метки порядка байтов; выгрузите его из CRM в формате CSV</translation>
    </message>
    <message>
        <source>the file is neither UTF-8 nor Windows-1251 (cp1251) text; pass its encoding with --encoding</source>
        <translation>файл — не текст ни в UTF-8, ни в Windows-1251 (cp1251); укажите его кодировку через --encoding</translation>
    </message>
    <message>
        <source>the file is empty: there is no header line</source>
        <translation>файл пуст: в нём нет строки заголовка</translation>
    </message>
    <message>
        <source>the header cannot be read: {problem}</source>
        <translation>заголовок не читается: {problem}</translation>
    </message>
    <message>
        <source>{fields} fields, but the header has {width}</source>
        <translation>полей: {fields}, а в заголовке их {width}</translation>
    </message>
    <message>
        <source>byte {byte} is not valid {encoding} text (save the file as UTF-8, or pass the right --encoding)</source>
        <translation>байт {byte} — не текст в кодировке {encoding} (сохраните файл в UTF-8 или укажите верную --encoding)</translation>
    </message>
    <message>
        <source>the header names the column {column} twice</source>
        <translation>в заголовке дважды назван столбец {column}</translation>
    </message>
    <message>
        <source>unknown preset {preset}; use one of: auto, {presets}</source>
        <translation>неизвестный пресет {preset}; используйте один из: auto, {presets}</translation>
    </message>
    <message>
        <source>no column of the file is mapped to a contact field</source>
        <translation>ни один столбец файла не сопоставлен с полем контакта</translation>
    </message>
    <message>
        <source>{fields} fields, but the header has {width} (its quoted text runs on to line {end})</source>
        <translation>полей: {fields}, а в заголовке их {width} (текст в кавычках продолжается до строки {end})</translation>
    </message>
    <message>
        <source>unknown encoding {encoding}</source>
        <translation>неизвестная кодировка {encoding}</translation>
    </message>
    <message>
        <source>byte {byte} is not UTF-8, though the lines before it are: the file mixes encodings; save it again as UTF-8 (or pass --encoding)</source>
        <translation>байт {byte} — не UTF-8, хотя строки до него в UTF-8: в файле смешаны кодировки; сохраните его заново в UTF-8 (или укажите --encoding)</translation>
    </message>
    <message>
        <source>{problem}</source>
        <translation>{problem}</translation>
    </message>
    <message>
        <source>--map names the column {column}, which the file does not have; its columns are: {header}</source>
        <translation>--map называет столбец {column}, которого в файле нет; столбцы файла: {header}</translation>
    </message>
    <message>
        <source>the row has no e-mail, phone, id or name</source>
        <translation>в строке нет ни e-mail, ни телефона, ни id, ни имени</translation>
    </message>
    <message>
        <source>a quoted field starts on this line and is never closed (a closing &quot; is missing), so the rest of the file cannot be read</source>
        <translation>на этой строке начинается поле в кавычках, которое нигде не закрывается (нет закрывающей &quot;), поэтому остаток файла не читается</translation>
    </message>
    <message>
        <source>the line contains a NUL byte</source>
        <translation>в строке есть байт NUL</translation>
    </message>
    <message>
        <source>column {column}: {problem}</source>
        <translation>столбец {column}: {problem}</translation>
    </message>
    <message>
        <source>{value} is not yes or no</source>
        <translation>{value} — не «да» и не «нет»</translation>
    </message>
    <message>
        <source>{value} is not an e-mail address</source>
        <translation>{value} — не адрес e-mail</translation>
    </message>
    <message>
        <source>{value} is not a phone number</source>
        <translation>{value} — не номер телефона</translation>
    </message>
    <message>
        <source>{value} is not an NPS answer from 0 to 10</source>
        <translation>{value} — не оценка NPS от 0 до 10</translation>
    </message>
    <message>
        <source>{value} is not a whole number of 0 or more</source>
        <translation>{value} — не целое число от 0 и больше</translation>
    </message>
    <message>
        <source>{value} is not a number</source>
        <translation>{value} — не число</translation>
    </message>
    <message>
        <source>{value} is not a date (use DD.MM.YYYY or YYYY-MM-DD)</source>
        <translation>{value} — не дата (пишите ДД.ММ.ГГГГ или ГГГГ-ММ-ДД)</translation>
    </message>
    <message>
        <source>is longer than {limit} characters</source>
        <translation>длиннее {limit} символов</translation>
    </message>
    <message>
        <source>{value} has no country code; write it as +&lt;country code&gt;… (or pass --phone-country)</source>
        <translation>{value} без кода страны; запишите номер как +&lt;код страны&gt;… (или укажите --phone-country)</translation>
    </message>
    <message>
        <source>the file changed while it was being read</source>
        <translation>файл изменился, пока его читали</translation>
    </message>
    <message>
        <source>the database refused the import, nothing was written: {problem}</source>
        <translation>база данных не приняла импорт, ничего не записано: {problem}</translation>
    </message>
    <message>
        <source>cannot read {path}: {problem}</source>
        <translation>не удаётся прочитать {path}: {problem}</translation>
    </message>
    <message numerus="yes">
        <source>%n row(s) cannot be imported, so nothing was written; fix the file or pass --skip-bad to import the rest. First: {first}</source>
        <translation>
            <numerusform>%n строку нельзя импортировать, поэтому ничего не записано; исправьте файл или укажите --skip-bad, чтобы импортировать остальные. Первая: {first}</numerusform>
            <numerusform>%n строки нельзя импортировать, поэтому ничего не записано; исправьте файл или укажите --skip-bad, чтобы импортировать остальные. Первая: {first}</numerusform>
            <numerusform>%n строк нельзя импортировать, поэтому ничего не записано; исправьте файл или укажите --skip-bad, чтобы импортировать остальные. Первая: {first}</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>CasesEditor</name>
    <message>
        <source>then ‘else’ for everyone else</source>
        <translation>затем «иначе» для всех остальных</translation>
    </message>
    <message>
        <source>Case {index}</source>
        <translation>Вариант {index}</translation>
    </message>
</context>
<context>
    <name>Category</name>
    <message>
        <source>Entry</source>
        <translation>Вход</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>Сообщения</translation>
    </message>
    <message>
        <source>Offer</source>
        <translation>Предложения</translation>
    </message>
    <message>
        <source>Flow</source>
        <translation>Логика</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>Действия</translation>
    </message>
    <message>
        <source>Goal</source>
        <translation>Цели</translation>
    </message>
    <message>
        <source>Exit</source>
        <translation>Выход</translation>
    </message>
    <message>
        <source>Annotation</source>
        <translation>Пометки</translation>
    </message>
</context>
<context>
    <name>Channel</name>
    <message>
        <source>e-mail</source>
        <translation>e-mail</translation>
    </message>
    <message>
        <source>sms</source>
        <translation>SMS</translation>
    </message>
    <message>
        <source>messenger</source>
        <translation>мессенджер</translation>
    </message>
    <message>
        <source>vk</source>
        <translation>VK</translation>
    </message>
    <message>
        <source>push</source>
        <translation>push</translation>
    </message>
</context>
<context>
    <name>Chart</name>
    <message>
        <source>Entered</source>
        <translation>Вошли</translation>
    </message>
    <message>
        <source>Revenue and cost per channel</source>
        <translation>Выручка и затраты по каналам</translation>
    </message>
    <message>
        <source>Whiskers: 95 % range over {runs} runs</source>
        <translation>Усы: 95 % диапазон по прогонам ({runs})</translation>
    </message>
    <message>
        <source>Funnel: goal stages</source>
        <translation>Воронка: этапы целей</translation>
    </message>
    <message>
        <source>Messages per day</source>
        <translation>Сообщений в день</translation>
    </message>
    <message>
        <source>day of the run</source>
        <translation>день прогона</translation>
    </message>
    <message>
        <source>Median {days} · {n} converted</source>
        <translation>Медиана {days} · конверсий: {n}</translation>
    </message>
    <message>
        <source>Time to conversion</source>
        <translation>Время до конверсии</translation>
    </message>
    <message>
        <source>days from entry to the first goal</source>
        <translation>дней от входа до первой цели</translation>
    </message>
    <message>
        <source>{n} messages in {days}</source>
        <translation>Сообщений: {n} за {days}</translation>
    </message>
    <message>
        <source>No contact entered in this run</source>
        <translation>В этом прогоне не вошёл ни один контакт</translation>
    </message>
    <message>
        <source>{share} of start</source>
        <translation>{share} от входа</translation>
    </message>
    <message>
        <source>{share} of previous</source>
        <translation>{share} от предыдущего</translation>
    </message>
    <message>
        <source>No message was sent in this run</source>
        <translation>В этом прогоне не отправлено ни одного сообщения</translation>
    </message>
    <message>
        <source>Revenue</source>
        <translation>Выручка</translation>
    </message>
    <message>
        <source>Cost</source>
        <translation>Затраты</translation>
    </message>
    <message>
        <source>No contact converted in this run</source>
        <translation>В этом прогоне нет конверсий</translation>
    </message>
    <message>
        <source>No message</source>
        <translation>Без сообщения</translation>
    </message>
    <message numerus="yes">
        <source>%n day(s)</source>
        <translation>
            <numerusform>%n день</numerusform>
            <numerusform>%n дня</numerusform>
            <numerusform>%n дней</numerusform>
        </translation>
    </message>
    <message>
        <source>(unnamed stage)</source>
        <translation>(этап без названия)</translation>
    </message>
</context>
<context>
    <name>Choice</name>
    <message>
        <source>Add tag</source>
        <translation>Добавить тег</translation>
    </message>
    <message>
        <source>After exit</source>
        <translation>После выхода</translation>
    </message>
    <message>
        <source>All at once</source>
        <translation>Все сразу</translation>
    </message>
    <message>
        <source>Always</source>
        <translation>Всегда</translation>
    </message>
    <message>
        <source>Back in stock</source>
        <translation>Снова в наличии</translation>
    </message>
    <message>
        <source>Cart abandoned</source>
        <translation>Брошенная корзина</translation>
    </message>
    <message>
        <source>Clicked</source>
        <translation>Клик</translation>
    </message>
    <message>
        <source>Converted</source>
        <translation>Конверсия</translation>
    </message>
    <message>
        <source>CRM task</source>
        <translation>Задача в CRM</translation>
    </message>
    <message>
        <source>Cross sell</source>
        <translation>Кросс-сейл</translation>
    </message>
    <message>
        <source>Disqualified</source>
        <translation>Не квалифицирован</translation>
    </message>
    <message>
        <source>Duration</source>
        <translation>Заданное время</translation>
    </message>
    <message>
        <source>E-mail</source>
        <translation>E-mail</translation>
    </message>
    <message>
        <source>Form submitted</source>
        <translation>Отправка формы</translation>
    </message>
    <message>
        <source>Handoff</source>
        <translation>Передача</translation>
    </message>
    <message>
        <source>Inactive</source>
        <translation>Неактивность</translation>
    </message>
    <message>
        <source>Lead magnet</source>
        <translation>Лид-магнит</translation>
    </message>
    <message>
        <source>Lead magnet download</source>
        <translation>Скачивание лид-магнита</translation>
    </message>
    <message>
        <source>Lost</source>
        <translation>Потерян</translation>
    </message>
    <message>
        <source>Main</source>
        <translation>Основной продукт</translation>
    </message>
    <message>
        <source>Manager</source>
        <translation>Менеджеру</translation>
    </message>
    <message>
        <source>Messenger</source>
        <translation>Мессенджер</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>Никогда</translation>
    </message>
    <message>
        <source>NPS answered</source>
        <translation>Ответ на NPS</translation>
    </message>
    <message>
        <source>Opened</source>
        <translation>Открытие</translation>
    </message>
    <message>
        <source>Price drop</source>
        <translation>Снижение цены</translation>
    </message>
    <message>
        <source>Purchase</source>
        <translation>Покупка</translation>
    </message>
    <message>
        <source>Push</source>
        <translation>Push</translation>
    </message>
    <message>
        <source>Remove tag</source>
        <translation>Снять тег</translation>
    </message>
    <message>
        <source>Replied</source>
        <translation>Ответ</translation>
    </message>
    <message>
        <source>Set attribute</source>
        <translation>Задать атрибут</translation>
    </message>
    <message>
        <source>Set CRM stage</source>
        <translation>Сменить этап в CRM</translation>
    </message>
    <message>
        <source>Signup</source>
        <translation>Регистрация</translation>
    </message>
    <message>
        <source>SMS</source>
        <translation>SMS</translation>
    </message>
    <message>
        <source>Spread</source>
        <translation>Равномерно</translation>
    </message>
    <message>
        <source>Tripwire</source>
        <translation>Трипвайр</translation>
    </message>
    <message>
        <source>Unsubscribed</source>
        <translation>Отписка</translation>
    </message>
    <message>
        <source>Upsell</source>
        <translation>Апсейл</translation>
    </message>
    <message>
        <source>VK</source>
        <translation>VK</translation>
    </message>
    <message>
        <source>Webhook</source>
        <translation>Вебхук</translation>
    </message>
    <message>
        <source>Webinar attended</source>
        <translation>Посещение вебинара</translation>
    </message>
    <message>
        <source>Window</source>
        <translation>До окна отправки</translation>
    </message>
    <message>
        <source>Wishlist added</source>
        <translation>Добавление в избранное</translation>
    </message>
</context>
<context>
    <name>ChoiceEditor</name>
    <message>
        <source>{value} (unknown)</source>
        <translation>{value} (неизвестно)</translation>
    </message>
</context>
<context>
    <name>Condition</name>
    <message>
        <source>this condition is nested too deeply; split it into simpler conditions</source>
        <translation>слишком глубокая вложенность; разбейте условие на более простые</translation>
    </message>
    <message>
        <source>use and instead of &amp;&amp;</source>
        <translation>пишите and вместо &amp;&amp;</translation>
    </message>
    <message>
        <source>use or instead of ||</source>
        <translation>пишите or вместо ||</translation>
    </message>
    <message>
        <source>use and instead of &amp;</source>
        <translation>пишите and вместо &amp;</translation>
    </message>
    <message>
        <source>use or instead of |</source>
        <translation>пишите or вместо |</translation>
    </message>
    <message>
        <source>powers (**) are not supported; multiply with *</source>
        <translation>возведение в степень (**) не поддерживается; умножайте через *</translation>
    </message>
    <message>
        <source>write &lt;= (the = goes last)</source>
        <translation>пишите &lt;= (знак = идёт последним)</translation>
    </message>
    <message>
        <source>write &gt;= (the = goes last)</source>
        <translation>пишите &gt;= (знак = идёт последним)</translation>
    </message>
    <message>
        <source>use == to compare; a single = is not allowed</source>
        <translation>для сравнения пишите ==; одиночный = недопустим</translation>
    </message>
    <message>
        <source>use not instead of !</source>
        <translation>пишите not вместо !</translation>
    </message>
    <message>
        <source>the remainder operator % is not supported</source>
        <translation>остаток от деления (%) не поддерживается</translation>
    </message>
    <message>
        <source>dots are not allowed: a condition names a field (like city) but cannot look inside it</source>
        <translation>точки недопустимы: условие называет поле (например, city), но не может заглянуть внутрь него</translation>
    </message>
    <message>
        <source>lambda is not allowed: a condition is a single expression, not a function</source>
        <translation>lambda недопустима: условие — одно выражение, а не функция</translation>
    </message>
    <message>
        <source>import is not allowed in a condition</source>
        <translation>import в условии недопустим</translation>
    </message>
    <message>
        <source>use == instead of is</source>
        <translation>пишите == вместо is</translation>
    </message>
    <message>
        <source>if is not allowed: write the condition itself, e.g. age &gt; 18</source>
        <translation>if недопустим: напишите само условие, например age &gt; 18</translation>
    </message>
    <message>
        <source>else is not allowed: a condition node already has yes and no exits</source>
        <translation>else недопустим: у шага «Условие» уже есть выходы «да» и «нет»</translation>
    </message>
    <message>
        <source>loops are not allowed in a condition</source>
        <translation>циклы в условии недопустимы</translation>
    </message>
    <message>
        <source>None is not a value here: comparisons with a missing value are simply false</source>
        <translation>None здесь не значение: сравнение с отсутствующим значением просто ложно</translation>
    </message>
    <message>
        <source>a number</source>
        <translation>число</translation>
    </message>
    <message>
        <source>text</source>
        <translation>текст</translation>
    </message>
    <message>
        <source>a yes/no value</source>
        <translation>значение «да/нет»</translation>
    </message>
    <message>
        <source>the list of tags</source>
        <translation>список тегов</translation>
    </message>
    <message>
        <source>a list</source>
        <translation>список</translation>
    </message>
    <message>
        <source>{message}; did you mean {name}?</source>
        <translation>{message}; может быть, {name}?</translation>
    </message>
    <message>
        <source>column {column}: {message}</source>
        <translation>столбец {column}: {message}</translation>
    </message>
    <message>
        <source>the character {char} is not allowed here</source>
        <translation>символ {char} здесь недопустим</translation>
    </message>
    <message>
        <source>the end of the text</source>
        <translation>конец текста</translation>
    </message>
    <message>
        <source>the number {number}</source>
        <translation>число {number}</translation>
    </message>
    <message>
        <source>the text {text}</source>
        <translation>текст {text}</translation>
    </message>
    <message>
        <source>a condition must be yes or no</source>
        <translation>условие должно давать «да» или «нет»</translation>
    </message>
    <message>
        <source>{value} is not a possible {field}; use one of: {choices}</source>
        <translation>{value} — недопустимое значение {field}; используйте одно из: {choices}</translation>
    </message>
    <message>
        <source>put a space or an operator between the number {number} and what follows</source>
        <translation>поставьте пробел или оператор между числом {number} и тем, что идёт дальше</translation>
    </message>
    <message>
        <source>this number is too large</source>
        <translation>слишком большое число</translation>
    </message>
    <message>
        <source>this text has no closing quote; add {quote} at its end</source>
        <translation>у текста нет закрывающей кавычки; добавьте {quote} в конце</translation>
    </message>
    <message>
        <source>{token} was not expected here: the condition already ended; join two conditions with and / or</source>
        <translation>{token} здесь не ожидалось: условие уже закончилось; соединяйте два условия через and / or</translation>
    </message>
    <message>
        <source>expected ) to close the ( at column {column}, found {token}</source>
        <translation>ожидалась ) для ( в столбце {column}, а найдено: {token}</translation>
    </message>
    <message>
        <source>list items must be fixed values like &quot;Moscow&quot; or 5</source>
        <translation>элементы списка должны быть готовыми значениями, например &quot;Москва&quot; или 5</translation>
    </message>
    <message>
        <source>{why}, but {value} is {kind}</source>
        <translation>{why}, а {value} — это {kind}</translation>
    </message>
    <message>
        <source>the condition is empty; write e.g. age &gt;= 18</source>
        <translation>условие пустое; напишите, например, age &gt;= 18</translation>
    </message>
    <message>
        <source>there is no ( to match this )</source>
        <translation>для этой ) нет парной (</translation>
    </message>
    <message>
        <source>{why} (at most {n} levels)</source>
        <translation>{why} (не больше {n} уровней)</translation>
    </message>
    <message>
        <source>only one comparison per check: join them with and</source>
        <translation>в одной проверке — одно сравнение: соединяйте их через and</translation>
    </message>
    <message>
        <source>square brackets after a value are not allowed (no indexing); a list can only follow in, e.g. city in [&quot;Moscow&quot;]</source>
        <translation>квадратные скобки после значения недопустимы (индексов нет); список может стоять только после in, например city in [&quot;Москва&quot;]</translation>
    </message>
    <message>
        <source>only these functions can be called: {functions}</source>
        <translation>вызывать можно только эти функции: {functions}</translation>
    </message>
    <message>
        <source>{name} is not a function you can use here; allowed: {functions}</source>
        <translation>{name} — не функция, которую можно здесь использовать; доступны: {functions}</translation>
    </message>
    <message>
        <source>{name} is a function: write {example}</source>
        <translation>{name} — это функция: пишите {example}</translation>
    </message>
    <message>
        <source>{name} needs a tag name in quotes, e.g. {example}</source>
        <translation>{name} ждёт имя тега в кавычках, например {example}</translation>
    </message>
    <message>
        <source>{name} needs an event name in quotes, e.g. {example}</source>
        <translation>{name} ждёт имя события в кавычках, например {example}</translation>
    </message>
    <message>
        <source>{name} takes exactly one name, e.g. {example}</source>
        <translation>{name} принимает ровно одно имя, например {example}</translation>
    </message>
    <message>
        <source>empty parentheses: put a condition or a value inside</source>
        <translation>пустые скобки: поместите внутрь условие или значение</translation>
    </message>
    <message>
        <source>this ( is never closed; add ) where it ends</source>
        <translation>эта ( не закрыта; добавьте ) там, где она заканчивается</translation>
    </message>
    <message>
        <source>not needs a yes/no condition</source>
        <translation>not применяется к условию «да/нет»</translation>
    </message>
    <message>
        <source>there is no field called {name}</source>
        <translation>нет поля с именем {name}</translation>
    </message>
    <message>
        <source>there is no event called {name}</source>
        <translation>нет события с именем {name}</translation>
    </message>
    <message>
        <source>no contact has the tag {tag}</source>
        <translation>ни у одного контакта нет тега {tag}</translation>
    </message>
    <message>
        <source>{op} compares numbers</source>
        <translation>{op} сравнивает числа</translation>
    </message>
    <message>
        <source>{left} ({left_kind}) cannot be compared with {right} ({right_kind}); to test a tag write &quot;vip&quot; in tags</source>
        <translation>{left} ({left_kind}) нельзя сравнить с {right} ({right_kind}); чтобы проверить тег, пишите &quot;vip&quot; in tags</translation>
    </message>
    <message>
        <source>{left} ({left_kind}) cannot be compared with {right} ({right_kind})</source>
        <translation>{left} ({left_kind}) нельзя сравнить с {right} ({right_kind})</translation>
    </message>
    <message>
        <source>join a comparison and an in check with and</source>
        <translation>соединяйте сравнение и проверку in через and</translation>
    </message>
    <message>
        <source>this [ is never closed; add ] after the last item</source>
        <translation>эта [ не закрыта; добавьте ] после последнего элемента</translation>
    </message>
    <message>
        <source>separate list items with commas</source>
        <translation>разделяйте элементы списка запятыми</translation>
    </message>
    <message>
        <source>{op} works on numbers</source>
        <translation>{op} работает с числами</translation>
    </message>
    <message>
        <source>{op} joins yes/no conditions</source>
        <translation>{op} соединяет условия «да/нет»</translation>
    </message>
    <message>
        <source>{value} is {value_kind} but {item} is {item_kind}</source>
        <translation>{value} — это {value_kind}, а {item} — {item_kind}</translation>
    </message>
    <message>
        <source>tags are names</source>
        <translation>теги — это имена</translation>
    </message>
    <message>
        <source>in needs the tags or a list like [&quot;a&quot;, &quot;b&quot;] on its right, but {container} is {kind}</source>
        <translation>справа от in должны стоять tags или список вида [&quot;a&quot;, &quot;b&quot;], а {container} — это {kind}</translation>
    </message>
    <message>
        <source>unknown escape \{escape} in the text; write \\ for a backslash</source>
        <translation>неизвестная escape-последовательность \{escape} в тексте; обратную косую черту пишите как \\</translation>
    </message>
    <message>
        <source>a list [...] can only follow in or not in, e.g. city in [&quot;Moscow&quot;]</source>
        <translation>список [...] может стоять только после in или not in, например city in [&quot;Москва&quot;]</translation>
    </message>
    <message>
        <source>the condition ends too early: something is missing after {previous}</source>
        <translation>условие обрывается: после {previous} чего-то не хватает</translation>
    </message>
    <message>
        <source>expected a field, a value or a condition here, found {token}</source>
        <translation>здесь ожидалось поле, значение или условие, а найдено: {token}</translation>
    </message>
</context>
<context>
    <name>Condition words</name>
    <message>
        <source>and</source>
        <translation>и</translation>
    </message>
    <message>
        <source>or</source>
        <translation>или</translation>
    </message>
    <message>
        <source>not</source>
        <translation>не</translation>
    </message>
    <message>
        <source>in</source>
        <translation>в</translation>
    </message>
    <message>
        <source>not in</source>
        <translation>не в</translation>
    </message>
    <message numerus="yes">
        <source>more than {n} day(s) since {event}</source>
        <translation>
            <numerusform>больше {n} дня после «{event}»</numerusform>
            <numerusform>больше {n} дней после «{event}»</numerusform>
            <numerusform>больше {n} дней после «{event}»</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>at least {n} day(s) since {event}</source>
        <translation>
            <numerusform>не меньше {n} дня после «{event}»</numerusform>
            <numerusform>не меньше {n} дней после «{event}»</numerusform>
            <numerusform>не меньше {n} дней после «{event}»</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>less than {n} day(s) since {event}</source>
        <translation>
            <numerusform>меньше {n} дня после «{event}»</numerusform>
            <numerusform>меньше {n} дней после «{event}»</numerusform>
            <numerusform>меньше {n} дней после «{event}»</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>at most {n} day(s) since {event}</source>
        <translation>
            <numerusform>не больше {n} дня после «{event}»</numerusform>
            <numerusform>не больше {n} дней после «{event}»</numerusform>
            <numerusform>не больше {n} дней после «{event}»</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>exactly {n} day(s) since {event}</source>
        <translation>
            <numerusform>ровно {n} день после «{event}»</numerusform>
            <numerusform>ровно {n} дня после «{event}»</numerusform>
            <numerusform>ровно {n} дней после «{event}»</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>{event} more than {n} time(s)</source>
        <translation>
            <numerusform>«{event}» больше {n} раза</numerusform>
            <numerusform>«{event}» больше {n} раз</numerusform>
            <numerusform>«{event}» больше {n} раз</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>{event} at least {n} time(s)</source>
        <translation>
            <numerusform>«{event}» не меньше {n} раза</numerusform>
            <numerusform>«{event}» не меньше {n} раз</numerusform>
            <numerusform>«{event}» не меньше {n} раз</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>{event} fewer than {n} time(s)</source>
        <translation>
            <numerusform>«{event}» меньше {n} раза</numerusform>
            <numerusform>«{event}» меньше {n} раз</numerusform>
            <numerusform>«{event}» меньше {n} раз</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>{event} at most {n} time(s)</source>
        <translation>
            <numerusform>«{event}» не больше {n} раза</numerusform>
            <numerusform>«{event}» не больше {n} раз</numerusform>
            <numerusform>«{event}» не больше {n} раз</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>{event} exactly {n} time(s)</source>
        <translation>
            <numerusform>«{event}» ровно {n} раз</numerusform>
            <numerusform>«{event}» ровно {n} раза</numerusform>
            <numerusform>«{event}» ровно {n} раз</numerusform>
        </translation>
    </message>
    <message>
        <source>{item} is none of {values}</source>
        <translation>{item} — ни одно из: {values}</translation>
    </message>
    <message>
        <source>tagged {tag}</source>
        <translation>с тегом {tag}</translation>
    </message>
    <message>
        <source>{item} is in an empty list</source>
        <translation>{item} в пустом списке</translation>
    </message>
    <message>
        <source>{item} is {values} or {last}</source>
        <translation>{item} — {values} или {last}</translation>
    </message>
    <message>
        <source>{item} is not {value}</source>
        <translation>{item} — не {value}</translation>
    </message>
    <message>
        <source>{item} is neither {first} nor {second}</source>
        <translation>{item} — ни {first}, ни {second}</translation>
    </message>
    <message>
        <source>{event} never happened</source>
        <translation>«{event}» не было</translation>
    </message>
    <message>
        <source>{event} happened</source>
        <translation>«{event}» было</translation>
    </message>
    <message>
        <source>number of {event}</source>
        <translation>число «{event}»</translation>
    </message>
    <message>
        <source>days since {event}</source>
        <translation>дней после «{event}»</translation>
    </message>
    <message>
        <source>not tagged {tag}</source>
        <translation>без тега {tag}</translation>
    </message>
    <message>
        <source>{item} is not in an empty list</source>
        <translation>{item} не в пустом списке</translation>
    </message>
    <message>
        <source>{item} is {value}</source>
        <translation>{item} — {value}</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>да</translation>
    </message>
    <message>
        <source>no</source>
        <translation>нет</translation>
    </message>
</context>
<context>
    <name>Connection</name>
    <message>
        <source>there is no step with id ‘{id}’</source>
        <translation>нет шага с id «{id}»</translation>
    </message>
    <message>
        <source>‘{step}’ has no exit ‘{exit}’ (its exits: {exits})</source>
        <translation>у шага «{step}» нет выхода «{exit}» (его выходы: {exits})</translation>
    </message>
    <message>
        <source>exit ‘{exit}’ of ‘{step}’ is already connected; to send contacts two ways, add an A/B split</source>
        <translation>выход «{exit}» шага «{step}» уже подключён; чтобы разделить контакты на два пути, добавьте A/B-сплит</translation>
    </message>
    <message>
        <source>‘{step}’ is a note or frame: it has no input</source>
        <translation>«{step}» — заметка или рамка: у неё нет входа</translation>
    </message>
    <message>
        <source>‘{step}’ is an entry: it has no input</source>
        <translation>«{step}» — точка входа: у неё нет входа от других шагов</translation>
    </message>
</context>
<context>
    <name>ContactPreviewDialog</name>
    <message>
        <source>(no name)</source>
        <translation>(без имени)</translation>
    </message>
    <message>
        <source>no address</source>
        <translation>нет адреса</translation>
    </message>
    <message>
        <source>Preview as contact</source>
        <translation>Путь контакта</translation>
    </message>
    <message>
        <source>Seed {seed} · {days} from {start}</source>
        <translation>Зерно {seed} · {days} с {start}</translation>
    </message>
    <message numerus="yes">
        <source>%n day(s)</source>
        <translation>
            <numerusform>%n день</numerusform>
            <numerusform>%n дня</numerusform>
            <numerusform>%n дней</numerusform>
        </translation>
    </message>
    <message>
        <source>segment: {segment}</source>
        <translation>сегмент: {segment}</translation>
    </message>
    <message>
        <source>The path the simulation gives one contact. {settings}.</source>
        <translation>Путь, который симуляция даёт одному контакту. {settings}.</translation>
    </message>
    <message>
        <source>Search by name, e-mail or phone</source>
        <translation>Поиск по имени, e-mail или телефону</translation>
    </message>
    <message>
        <source>When</source>
        <translation>Когда</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>Шаг</translation>
    </message>
    <message>
        <source>Exit</source>
        <translation>Выход</translation>
    </message>
    <message>
        <source>No contact matches.</source>
        <translation>Контакты не найдены.</translation>
    </message>
    <message>
        <source>The first {n} matches; type more to narrow.</source>
        <translation>Первые {n} совпадений; уточните запрос.</translation>
    </message>
    <message>
        <source>Not in the segment of the run; shown as if the segment let everyone in. </source>
        <translation>Не входит в сегмент прогона; показан так, будто сегмент пропускает всех. </translation>
    </message>
    <message>
        <source>Cannot walk this contact: {reason}</source>
        <translation>Не удаётся провести этот контакт: {reason}</translation>
    </message>
    <message>
        <source>Does not enter at ‘{step}’</source>
        <translation>Не входит через «{step}»</translation>
    </message>
    <message>
        <source>still waiting at the horizon</source>
        <translation>ещё ждёт к концу периода</translation>
    </message>
    <message>
        <source>left: {outcome}</source>
        <translation>вышел: {outcome}</translation>
    </message>
    <message>
        <source>left</source>
        <translation>вышел</translation>
    </message>
    <message>
        <source>This contact does not enter the funnel in the simulated period.</source>
        <translation>За моделируемый период этот контакт в воронку не входит.</translation>
    </message>
    <message numerus="yes">
        <source>%n step(s)</source>
        <translation>
            <numerusform>%n шаг</numerusform>
            <numerusform>%n шага</numerusform>
            <numerusform>%n шагов</numerusform>
        </translation>
    </message>
    <message>
        <source>converted: {stages}</source>
        <translation>конверсии: {stages}</translation>
    </message>
    <message>
        <source>no conversion</source>
        <translation>без конверсии</translation>
    </message>
    <message>
        <source>revenue {amount}</source>
        <translation>выручка {amount}</translation>
    </message>
    <message>
        <source>exit {exit}</source>
        <translation>выход {exit}</translation>
    </message>
</context>
<context>
    <name>Database</name>
    <message>
        <source>unknown locale {locale}; use one of: {locales}</source>
        <translation>неизвестная локаль {locale}; используйте одну из: {locales}</translation>
    </message>
    <message>
        <source>the number of contacts must be at least 1, not {n}</source>
        <translation>число контактов должно быть не меньше 1, а не {n}</translation>
    </message>
    <message>
        <source>the database already has contacts; use --replace to start over</source>
        <translation>в базе уже есть контакты; добавьте --replace, чтобы начать заново</translation>
    </message>
    <message>
        <source>cannot open the database {url}: {problem}</source>
        <translation>не удаётся открыть базу данных {url}: {problem}</translation>
    </message>
    <message>
        <source>{source}: {url} is not a database URL ({problem})</source>
        <translation>{source}: {url} — не URL базы данных ({problem})</translation>
    </message>
    <message>
        <source>cannot create the folder {folder} for the database: {problem}</source>
        <translation>не удаётся создать папку {folder} для базы данных: {problem}</translation>
    </message>
</context>
<context>
    <name>Default</name>
    <message>
        <source>Case 1</source>
        <translation>Вариант 1</translation>
    </message>
    <message>
        <source>Case 2</source>
        <translation>Вариант 2</translation>
    </message>
    <message>
        <source>Purchase</source>
        <translation>Покупка</translation>
    </message>
</context>
<context>
    <name>DemoBanner</name>
    <message>
        <source>&lt;b&gt;No contact database yet.&lt;/b&gt; Create a demo shop with {n} contacts, their tags and purchase histories, to simulate any template right away.</source>
        <translation>&lt;b&gt;Базы контактов пока нет.&lt;/b&gt; Создайте демо-магазин с {n} контактами, их тегами и историей покупок, чтобы сразу симулировать любой шаблон.</translation>
    </message>
    <message>
        <source>Create demo database</source>
        <translation>Создать демо-базу</translation>
    </message>
    <message>
        <source>&lt;b&gt;Demo database ready:&lt;/b&gt; {contacts} contacts, {events} events, {products} products, in {path}.</source>
        <translation>&lt;b&gt;Демо-база готова:&lt;/b&gt; контактов — {contacts}, событий — {events}, продуктов — {products}, в {path}.</translation>
    </message>
</context>
<context>
    <name>DemoDatabase</name>
    <message>
        <source>Writing contacts</source>
        <translation>Запись контактов</translation>
    </message>
    <message>
        <source>Writing their purchase histories</source>
        <translation>Запись истории покупок</translation>
    </message>
    <message>
        <source>{stage}: {done} of {total}</source>
        <translation>{stage}: {done} из {total}</translation>
    </message>
</context>
<context>
    <name>DemoDatabaseJob</name>
    <message>
        <source>Demo database</source>
        <translation>Демо-база</translation>
    </message>
    <message>
        <source>Creating {n} demo contacts…</source>
        <translation>Создание демо-контактов: {n}…</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>Остановка…</translation>
    </message>
</context>
<context>
    <name>Duration</name>
    <message numerus="yes">
        <source>%n second(s)</source>
        <translation>
            <numerusform>%n секунда</numerusform>
            <numerusform>%n секунды</numerusform>
            <numerusform>%n секунд</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n day(s)</source>
        <translation>
            <numerusform>%n день</numerusform>
            <numerusform>%n дня</numerusform>
            <numerusform>%n дней</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n hour(s)</source>
        <translation>
            <numerusform>%n час</numerusform>
            <numerusform>%n часа</numerusform>
            <numerusform>%n часов</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n minute(s)</source>
        <translation>
            <numerusform>%n минута</numerusform>
            <numerusform>%n минуты</numerusform>
            <numerusform>%n минут</numerusform>
        </translation>
    </message>
    <message>
        <source>a duration must be text like P2D or PT6H, not {value}</source>
        <translation>длительность должна быть текстом вида P2D или PT6H, а не {value}</translation>
    </message>
    <message>
        <source>‘{value}’ is not a duration; write it like P2D (2 days), PT6H (6 hours) or P1DT12H (1 day 12 hours)</source>
        <translation>«{value}» — не длительность; пишите P2D (2 дня), PT6H (6 часов) или P1DT12H (1 день 12 часов)</translation>
    </message>
</context>
<context>
    <name>DurationEditor</name>
    <message>
        <source>e.g. P2D, PT6H, P1DT12H</source>
        <translation>например P2D, PT6H, P1DT12H</translation>
    </message>
    <message>
        <source>No duration set</source>
        <translation>Длительность не задана</translation>
    </message>
</context>
<context>
    <name>EditorDocument</name>
    <message>
        <source>Untitled</source>
        <translation>Без названия</translation>
    </message>
    <message>
        <source>‘{step}’ has no input</source>
        <translation>У «{step}» нет входа</translation>
    </message>
    <message>
        <source>that exit is already connected</source>
        <translation>этот выход уже подключён</translation>
    </message>
    <message>
        <source>Delete ‘{step}’</source>
        <translation>Удалить «{step}»</translation>
    </message>
    <message numerus="yes">
        <source>Delete %n step(s)</source>
        <translation>
            <numerusform>Удалить %n шаг</numerusform>
            <numerusform>Удалить %n шага</numerusform>
            <numerusform>Удалить %n шагов</numerusform>
        </translation>
    </message>
    <message>
        <source>Delete connection</source>
        <translation>Удалить связь</translation>
    </message>
    <message>
        <source>Auto-layout</source>
        <translation>Авторасстановка</translation>
    </message>
    <message numerus="yes">
        <source>Paste %n step(s)</source>
        <translation>
            <numerusform>Вставить %n шаг</numerusform>
            <numerusform>Вставить %n шага</numerusform>
            <numerusform>Вставить %n шагов</numerusform>
        </translation>
    </message>
    <message>
        <source>Add ‘{step}’</source>
        <translation>Добавить «{step}»</translation>
    </message>
</context>
<context>
    <name>Event</name>
    <message>
        <source>signup</source>
        <translation>регистрация</translation>
    </message>
    <message>
        <source>lead magnet download</source>
        <translation>скачан лид-магнит</translation>
    </message>
    <message>
        <source>cart abandoned</source>
        <translation>брошенная корзина</translation>
    </message>
    <message>
        <source>wishlist added</source>
        <translation>добавлено в избранное</translation>
    </message>
    <message>
        <source>back in stock</source>
        <translation>снова в наличии</translation>
    </message>
    <message>
        <source>price drop</source>
        <translation>снижение цены</translation>
    </message>
    <message>
        <source>purchase</source>
        <translation>покупка</translation>
    </message>
    <message>
        <source>inactive</source>
        <translation>неактивность</translation>
    </message>
    <message>
        <source>opened</source>
        <translation>открытие</translation>
    </message>
    <message>
        <source>clicked</source>
        <translation>клик</translation>
    </message>
    <message>
        <source>replied</source>
        <translation>ответ</translation>
    </message>
    <message>
        <source>unsubscribed</source>
        <translation>отписка</translation>
    </message>
    <message>
        <source>nps answered</source>
        <translation>ответ на NPS</translation>
    </message>
    <message>
        <source>webinar attended</source>
        <translation>посещение вебинара</translation>
    </message>
    <message>
        <source>form submitted</source>
        <translation>отправка формы</translation>
    </message>
</context>
<context>
    <name>Example</name>
    <message>
        <source>everyone tagged “vip” who has not bought for 90 days</source>
        <translation>все с тегом «vip», кто не покупал 90 дней</translation>
    </message>
    <message>
        <source>days_since_purchase &gt; 90 and &quot;vip&quot; in tags</source>
        <translation>days_since_purchase &gt; 90 and &quot;vip&quot; in tags</translation>
    </message>
    <message>
        <source>spread, for 50 000 dormant customers</source>
        <translation>равномерно — для 50 000 уснувших клиентов</translation>
    </message>
    <message>
        <source>7</source>
        <translation>7</translation>
    </message>
    <message>
        <source>after_exit for a monthly win-back, never for a welcome series</source>
        <translation>«после выхода» — для ежемесячной реактивации, «никогда» — для приветственной серии</translation>
    </message>
    <message>
        <source>a cart worth 1 000 ₽ or more is abandoned</source>
        <translation>брошена корзина на 1 000 ₽ и больше</translation>
    </message>
    <message>
        <source>cart_abandoned, signup, purchase</source>
        <translation>брошенная корзина, регистрация, покупка</translation>
    </message>
    <message>
        <source>90</source>
        <translation>90</translation>
    </message>
    <message>
        <source>an e-mail: “You left something in your cart”</source>
        <translation>письмо: «Вы кое-что забыли в корзине»</translation>
    </message>
    <message>
        <source>SMS for an urgent back-in-stock alert, e-mail for everything else</source>
        <translation>SMS — для срочного «снова в наличии», e-mail — для всего остального</translation>
    </message>
    <message>
        <source>{{ contact.first_name }}, your cart is waiting</source>
        <translation>{{ contact.first_name }}, ваша корзина ждёт</translation>
    </message>
    <message>
        <source>Hi {{ contact.first_name }}, {{ promo_code }} gives you {{ offer.discount }} % off</source>
        <translation>Здравствуйте, {{ contact.first_name }}! Код {{ promo_code }} даёт скидку {{ offer.discount }} %</translation>
    </message>
    <message>
        <source>4.5 for an SMS, 0.1 for an e-mail</source>
        <translation>4,5 за SMS, 0,1 за письмо</translation>
    </message>
    <message>
        <source>a personal 10 % code for the items left in the cart</source>
        <translation>персональный код на 10 % на товары из корзины</translation>
    </message>
    <message>
        <source>Phone case (cross-sell, 990 ₽) two days after a phone</source>
        <translation>Чехол (кросс-сейл, 990 ₽) через два дня после телефона</translation>
    </message>
    <message>
        <source>10</source>
        <translation>10</translation>
    </message>
    <message>
        <source>BACK10</source>
        <translation>BACK10</translation>
    </message>
    <message>
        <source>wait 1 hour, or hold until the 09:00–21:00 window</source>
        <translation>подождать 1 час или до окна 09:00–21:00</translation>
    </message>
    <message>
        <source>window, so a cart left at 2 a.m. is reminded at 10:00</source>
        <translation>до окна: корзине, брошенной в 2 часа ночи, напомним в 10:00</translation>
    </message>
    <message>
        <source>PT1H (an hour), P2D (two days), P1W (a week)</source>
        <translation>PT1H (час), P2D (два дня), P1W (неделя)</translation>
    </message>
    <message>
        <source>Tue–Sat, to keep out of Monday&apos;s full inbox</source>
        <translation>Вт–Сб, чтобы не теряться в переполненном ящике в понедельник</translation>
    </message>
    <message>
        <source>10:00</source>
        <translation>10:00</translation>
    </message>
    <message>
        <source>20:00</source>
        <translation>20:00</translation>
    </message>
    <message>
        <source>did they buy within 2 days? If not, remind them</source>
        <translation>купил за 2 дня? Если нет — напомнить</translation>
    </message>
    <message>
        <source>purchase, after a reminder with a promo code</source>
        <translation>покупка — после напоминания с промокодом</translation>
    </message>
    <message>
        <source>P2D (two days)</source>
        <translation>P2D (два дня)</translation>
    </message>
    <message>
        <source>can we text them? consent_sms and has_phone</source>
        <translation>можно писать в SMS? consent_sms and has_phone</translation>
    </message>
    <message>
        <source>age &gt;= 25 and gender == &quot;f&quot; and &quot;cats&quot; in tags</source>
        <translation>age &gt;= 25 and gender == &quot;f&quot; and &quot;cats&quot; in tags</translation>
    </message>
    <message>
        <source>by city: Moscow, St Petersburg, everyone else</source>
        <translation>по городу: Москва, Санкт-Петербург, остальные</translation>
    </message>
    <message>
        <source>cats: &quot;cats&quot; in tags · dogs: &quot;dogs&quot; in tags · else: the rest</source>
        <translation>кошки: &quot;cats&quot; in tags · собаки: &quot;dogs&quot; in tags · иначе: остальные</translation>
    </message>
    <message>
        <source>test two subject lines, 50 % / 50 %</source>
        <translation>тест двух тем письма, 50 % / 50 %</translation>
    </message>
    <message>
        <source>A 50 / B 50 to test two subject lines</source>
        <translation>A 50 / B 50 — тест двух тем письма</translation>
    </message>
    <message>
        <source>tag “cart_lost” for retargeting ads</source>
        <translation>тег «cart_lost» для ретаргетинга</translation>
    </message>
    <message>
        <source>add_tag, to mark who saw the offer</source>
        <translation>добавить тег, чтобы отметить, кто видел предложение</translation>
    </message>
    <message>
        <source>cart_lost</source>
        <translation>cart_lost</translation>
    </message>
    <message>
        <source>preferred_channel</source>
        <translation>preferred_channel</translation>
    </message>
    <message>
        <source>Sales-qualified lead</source>
        <translation>Квалифицированный лид (SQL)</translation>
    </message>
    <message>
        <source>ask a manager to call a hot lead</source>
        <translation>попросить менеджера позвонить горячему лиду</translation>
    </message>
    <message>
        <source>crm_task, for a call-back within a day</source>
        <translation>задача в CRM — перезвонить в течение дня</translation>
    </message>
    <message>
        <source>Call {{ contact.first_name }} at {{ contact.phone }} today</source>
        <translation>Позвонить {{ contact.first_name }} по номеру {{ contact.phone }} сегодня</translation>
    </message>
    <message>
        <source>Head of Sales</source>
        <translation>Руководитель отдела продаж</translation>
    </message>
    <message>
        <source>https://crm.example/hooks/hot-lead</source>
        <translation>https://crm.example/hooks/hot-lead</translation>
    </message>
    <message>
        <source>“Cart recovered”, worth the average check</source>
        <translation>«Корзина возвращена» на сумму среднего чека</translation>
    </message>
    <message>
        <source>Cart recovered</source>
        <translation>Корзина возвращена</translation>
    </message>
    <message>
        <source>4490, the average check</source>
        <translation>4490 — средний чек</translation>
    </message>
    <message>
        <source>bought / did not buy / unsubscribed</source>
        <translation>купил / не купил / отписался</translation>
    </message>
    <message>
        <source>lost, for ‘did not buy after two reminders’</source>
        <translation>«потерян» — для «не купил после двух напоминаний»</translation>
    </message>
    <message>
        <source>post_purchase_cross_sell</source>
        <translation>post_purchase_cross_sell</translation>
    </message>
    <message>
        <source>why the first reminder carries no discount</source>
        <translation>почему в первом напоминании нет скидки</translation>
    </message>
    <message>
        <source>Why the first reminder carries no discount</source>
        <translation>Почему в первом напоминании нет скидки</translation>
    </message>
    <message>
        <source>#FFF4C2, a sticky-note yellow</source>
        <translation>#FFF4C2 — жёлтый, как стикер</translation>
    </message>
    <message>
        <source>the “Interest” stage of the funnel</source>
        <translation>этап воронки «Интерес»</translation>
    </message>
    <message>
        <source>#E8F0FE, a pale blue</source>
        <translation>#E8F0FE — бледно-голубой</translation>
    </message>
    <message>
        <source>780, three columns of steps</source>
        <translation>780 — три колонки шагов</translation>
    </message>
    <message>
        <source>880</source>
        <translation>880</translation>
    </message>
</context>
<context>
    <name>Exit</name>
    <message>
        <source>next</source>
        <translation>далее</translation>
    </message>
    <message>
        <source>sent</source>
        <translation>отправлено</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>не доставлено</translation>
    </message>
    <message>
        <source>happened</source>
        <translation>произошло</translation>
    </message>
    <message>
        <source>timeout</source>
        <translation>время вышло</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>да</translation>
    </message>
    <message>
        <source>no</source>
        <translation>нет</translation>
    </message>
    <message>
        <source>else</source>
        <translation>иначе</translation>
    </message>
    <message>
        <source>done</source>
        <translation>выполнено</translation>
    </message>
</context>
<context>
    <name>Exit meaning</name>
    <message>
        <source>contacts with ‘{event}’</source>
        <translation>контакты, у которых было событие «{event}»</translation>
    </message>
    <message>
        <source>contacts the message cannot reach (no consent, no address, not delivered)</source>
        <translation>контакты, до которых сообщение не дошло (нет согласия, нет адреса, не доставлено)</translation>
    </message>
    <message>
        <source>contacts who got the message</source>
        <translation>контакты, получившие сообщение</translation>
    </message>
    <message>
        <source>contacts who got the offer</source>
        <translation>контакты, получившие предложение</translation>
    </message>
    <message>
        <source>contacts for whom the condition holds</source>
        <translation>контакты, для которых условие выполнено</translation>
    </message>
    <message>
        <source>contacts for whom the condition does not hold</source>
        <translation>контакты, для которых условие не выполнено</translation>
    </message>
    <message>
        <source>contacts whose notification failed</source>
        <translation>контакты, по которым уведомление не сработало</translation>
    </message>
    <message>
        <source>contacts matching no case</source>
        <translation>контакты, не подошедшие ни под один вариант</translation>
    </message>
    <message>
        <source>contacts leaving by ‘{exit}’</source>
        <translation>контакты, ушедшие по выходу «{exit}»</translation>
    </message>
    <message>
        <source>contacts without ‘{event}’ within {time}</source>
        <translation>контакты без события «{event}» за {time}</translation>
    </message>
    <message>
        <source>contacts the offer cannot reach (no consent, no address, not delivered)</source>
        <translation>контакты, до которых предложение не дошло (нет согласия, нет адреса, не доставлено)</translation>
    </message>
    <message>
        <source>contacts without ‘{event}’ in time</source>
        <translation>контакты без события «{event}» в срок</translation>
    </message>
</context>
<context>
    <name>ExpressionEditor</name>
    <message>
        <source>e.g. age &gt;= 25 and &quot;cats&quot; in tags</source>
        <translation>например age &gt;= 25 and &quot;cats&quot; in tags</translation>
    </message>
</context>
<context>
    <name>File</name>
    <message>
        <source>a time must be written as HH:MM, from 00:00 to 23:59</source>
        <translation>время пишется как ЧЧ:ММ, от 00:00 до 23:59</translation>
    </message>
    <message>
        <source>a currency is a three-letter ISO code such as RUB, USD or EUR</source>
        <translation>валюта — трёхбуквенный код ISO, например RUB, USD или EUR</translation>
    </message>
    <message>
        <source>a period is an ISO 8601 duration such as P1D or P7D</source>
        <translation>период — длительность ISO 8601, например P1D или P7D</translation>
    </message>
    <message>
        <source>this is not a Voronka scenario (no ‘format’ key; expected ‘{format}’)</source>
        <translation>это не сценарий «Воронки» (нет ключа «format»; ожидается «{format}»)</translation>
    </message>
    <message>
        <source>this is not a Voronka scenario (its format is ‘{found}’; expected ‘{format}’)</source>
        <translation>это не сценарий «Воронки» (его формат «{found}»; ожидается «{format}»)</translation>
    </message>
    <message>
        <source>missing key ‘{key}’</source>
        <translation>нет ключа «{key}»</translation>
    </message>
    <message>
        <source>expected {kind}, found {found}</source>
        <translation>ожидалось {kind}, найдено {found}</translation>
    </message>
    <message>
        <source>it does not have the expected form</source>
        <translation>значение не того вида</translation>
    </message>
    <message>
        <source>unexpected key: {key}</source>
        <translation>лишний ключ: {key}</translation>
    </message>
    <message>
        <source>duplicate connection dropped</source>
        <translation>повторная связь отброшена</translation>
    </message>
    <message>
        <source>a scenario file must hold a JSON object, not {kind}</source>
        <translation>файл сценария должен содержать объект JSON, а не {kind}</translation>
    </message>
    <message>
        <source>the format version must be a whole number, found {found}</source>
        <translation>версия формата должна быть целым числом, найдено {found}</translation>
    </message>
    <message>
        <source>the file has format version {version}, made by a newer Voronka; this version reads up to {latest}</source>
        <translation>у файла версия формата {version} — он создан более новой «Воронкой»; эта версия читает до {latest}</translation>
    </message>
    <message>
        <source>format version {version} does not exist</source>
        <translation>версии формата {version} не существует</translation>
    </message>
    <message>
        <source>cannot read the file: {reason}</source>
        <translation>не удаётся прочитать файл: {reason}</translation>
    </message>
    <message>
        <source>the file is not UTF-8 text (is it a scenario file?)</source>
        <translation>файл не является текстом UTF-8 (это точно файл сценария?)</translation>
    </message>
    <message>
        <source>this is not valid JSON: {reason}</source>
        <translation>это не корректный JSON: {reason}</translation>
    </message>
    <message>
        <source>this JSON cannot be read: {reason}</source>
        <translation>этот JSON не удаётся прочитать: {reason}</translation>
    </message>
    <message>
        <source>two steps have the id ‘{id}’; ids must be unique</source>
        <translation>у двух шагов id «{id}»; id должны быть уникальными</translation>
    </message>
    <message>
        <source>the connection starts at a missing step ‘{id}’</source>
        <translation>связь начинается в несуществующем шаге «{id}»</translation>
    </message>
    <message>
        <source>the connection leads to a missing step ‘{id}’</source>
        <translation>связь ведёт в несуществующий шаг «{id}»</translation>
    </message>
    <message>
        <source>byte {n}</source>
        <translation>байт {n}</translation>
    </message>
    <message>
        <source>line {line}, column {column}</source>
        <translation>строка {line}, столбец {column}</translation>
    </message>
    <message>
        <source>unknown step type ‘{type}’ (made by a newer Voronka?); kept as a placeholder</source>
        <translation>неизвестный тип шага «{type}» (создан более новой «Воронкой»?); сохранён как заглушка</translation>
    </message>
    <message>
        <source>‘{step}’ has no exit ‘{exit}’</source>
        <translation>у «{step}» нет выхода «{exit}»</translation>
    </message>
</context>
<context>
    <name>Flow</name>
    <message>
        <source>{amount} converted</source>
        <translation>{amount} конверсий</translation>
    </message>
    <message>
        <source>{amount} in · {waiting} waiting</source>
        <translation>вошли {amount} · ждут {waiting}</translation>
    </message>
    <message>
        <source>{amount} lost here</source>
        <translation>{amount} потеряно здесь</translation>
    </message>
    <message>
        <source>{amount} in</source>
        <translation>вошли {amount}</translation>
    </message>
</context>
<context>
    <name>FunnelScene</name>
    <message>
        <source>Cannot connect: {reason}</source>
        <translation>Нельзя соединить: {reason}</translation>
    </message>
</context>
<context>
    <name>Help</name>
    <message>
        <source>What is an auto-funnel</source>
        <translation>Что такое автоворонка</translation>
    </message>
    <message>
        <source>This rule is not described in docs/VALIDATION.md yet.</source>
        <translation>Это правило пока не описано в docs/VALIDATION.md.</translation>
    </message>
    <message>
        <source>Tab, or double-click the canvas</source>
        <translation>Tab или двойной щелчок по холсту</translation>
    </message>
    <message>
        <source>Search step types and add one at the cursor</source>
        <translation>Найти тип шага и добавить его под курсором</translation>
    </message>
    <message>
        <source>Drag from an exit</source>
        <translation>Перетащить от выхода</translation>
    </message>
    <message>
        <source>Connect; drop on empty canvas to add a connected step</source>
        <translation>Соединить; отпустить на пустом месте — добавить уже подключённый шаг</translation>
    </message>
    <message>
        <source>Wheel</source>
        <translation>Колесо мыши</translation>
    </message>
    <message>
        <source>Zoom at the cursor</source>
        <translation>Масштаб под курсором</translation>
    </message>
    <message>
        <source>Middle button, or Space + drag</source>
        <translation>Средняя кнопка или Пробел + перетаскивание</translation>
    </message>
    <message>
        <source>Pan</source>
        <translation>Прокрутка холста</translation>
    </message>
    <message>
        <source>Drag on empty canvas</source>
        <translation>Перетаскивание по пустому холсту</translation>
    </message>
    <message>
        <source>Select the steps in a rectangle</source>
        <translation>Выделить шаги рамкой</translation>
    </message>
    <message>
        <source>What it means.</source>
        <translation>Что это значит.</translation>
    </message>
    <message>
        <source>How to fix it.</source>
        <translation>Как исправить.</translation>
    </message>
    <message>
        <source>All rules are described in {file}.</source>
        <translation>Все правила описаны в {file}.</translation>
    </message>
</context>
<context>
    <name>Inspector</name>
    <message>
        <source>Select a step to edit it. Drag steps from the palette; press Tab on the canvas to search.</source>
        <translation>Выберите шаг, чтобы его настроить. Перетаскивайте шаги из палитры; на холсте нажмите Tab для поиска.</translation>
    </message>
    <message>
        <source>This step was made by a newer Voronka or another tool. Its settings are kept as they are; replace it with a known step to run the scenario.</source>
        <translation>Этот шаг создан более новой версией «Воронки» или другой программой. Его настройки сохранены как есть; чтобы сценарий можно было запустить, замените его известным шагом.</translation>
    </message>
    <message>
        <source>Empty: everyone passes</source>
        <translation>Пусто: проходят все</translation>
    </message>
    <message>
        <source>Uses: {names}</source>
        <translation>Использует: {names}</translation>
    </message>
    <message>
        <source>No variables</source>
        <translation>Без переменных</translation>
    </message>
    <message>
        <source>Add a row</source>
        <translation>Добавить строку</translation>
    </message>
    <message>
        <source>Id</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>Label</source>
        <translation>Название</translation>
    </message>
    <message>
        <source>Condition</source>
        <translation>Условие</translation>
    </message>
    <message>
        <source>Add a case</source>
        <translation>Добавить вариант</translation>
    </message>
    <message>
        <source>Weight, %</source>
        <translation>Вес, %</translation>
    </message>
    <message>
        <source>Add a variant</source>
        <translation>Добавить вариант</translation>
    </message>
</context>
<context>
    <name>InspectorWidget</name>
    <message>
        <source>The name shown on the canvas and in reports</source>
        <translation>Название на холсте и в отчётах</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>Название</translation>
    </message>
</context>
<context>
    <name>ItemTableEditor</name>
    <message>
        <source>Remove the selected row</source>
        <translation>Удалить выбранную строку</translation>
    </message>
    <message>
        <source>Move the selected row up</source>
        <translation>Переместить строку вверх</translation>
    </message>
    <message>
        <source>Move the selected row down</source>
        <translation>Переместить строку вниз</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Steps</source>
        <translation>Шаги</translation>
    </message>
    <message>
        <source>Overview</source>
        <translation>Обзор</translation>
    </message>
    <message>
        <source>Inspector</source>
        <translation>Свойства</translation>
    </message>
    <message>
        <source>Problems</source>
        <translation>Проблемы</translation>
    </message>
    <message>
        <source>Simulation</source>
        <translation>Симуляция</translation>
    </message>
    <message>
        <source>Results</source>
        <translation>Результаты</translation>
    </message>
    <message>
        <source>Voronka scenarios (*.json);;All files (*)</source>
        <translation>Сценарии «Воронки» (*.json);;Все файлы (*)</translation>
    </message>
    <message>
        <source>&amp;New</source>
        <translation>&amp;Создать</translation>
    </message>
    <message>
        <source>&amp;Open…</source>
        <translation>&amp;Открыть…</translation>
    </message>
    <message>
        <source>&amp;Save</source>
        <translation>&amp;Сохранить</translation>
    </message>
    <message>
        <source>Save &amp;As…</source>
        <translation>Сохранить &amp;как…</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>&amp;Закрыть</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Выход</translation>
    </message>
    <message>
        <source>&amp;Undo</source>
        <translation>&amp;Отменить</translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation>&amp;Повторить</translation>
    </message>
    <message>
        <source>Cu&amp;t</source>
        <translation>&amp;Вырезать</translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation>&amp;Копировать</translation>
    </message>
    <message>
        <source>&amp;Paste</source>
        <translation>В&amp;ставить</translation>
    </message>
    <message>
        <source>D&amp;uplicate</source>
        <translation>&amp;Дублировать</translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation>&amp;Удалить</translation>
    </message>
    <message>
        <source>Select &amp;All</source>
        <translation>Выделить &amp;всё</translation>
    </message>
    <message>
        <source>Zoom &amp;In</source>
        <translation>&amp;Увеличить</translation>
    </message>
    <message>
        <source>Zoom &amp;Out</source>
        <translation>У&amp;меньшить</translation>
    </message>
    <message>
        <source>&amp;Fit All</source>
        <translation>&amp;Показать всё</translation>
    </message>
    <message>
        <source>Fit &amp;Selection</source>
        <translation>Показать в&amp;ыделенное</translation>
    </message>
    <message>
        <source>Auto-&amp;Layout</source>
        <translation>&amp;Авторасстановка</translation>
    </message>
    <message>
        <source>Arrange the steps left to right</source>
        <translation>Расставить шаги слева направо</translation>
    </message>
    <message>
        <source>&amp;Validate</source>
        <translation>&amp;Проверить</translation>
    </message>
    <message>
        <source>Check that every exit is handled</source>
        <translation>Проверить, что каждый выход обработан</translation>
    </message>
    <message>
        <source>Add Step…</source>
        <translation>Добавить шаг…</translation>
    </message>
    <message>
        <source>Search step types (Tab)</source>
        <translation>Поиск типа шага (Tab)</translation>
    </message>
    <message>
        <source>&amp;Dark Theme</source>
        <translation>&amp;Тёмная тема</translation>
    </message>
    <message>
        <source>&amp;Run Simulation</source>
        <translation>&amp;Запустить симуляцию</translation>
    </message>
    <message>
        <source>Simulate the funnel over the contacts</source>
        <translation>Прогнать воронку по базе контактов</translation>
    </message>
    <message>
        <source>Sa&amp;ve Simulation Run…</source>
        <translation>Со&amp;хранить прогон симуляции…</translation>
    </message>
    <message>
        <source>Keep the last run in the contact database, with a label</source>
        <translation>Сохранить последний прогон в базе контактов, с подписью</translation>
    </message>
    <message>
        <source>&amp;Compare Runs…</source>
        <translation>&amp;Сравнить прогоны…</translation>
    </message>
    <message>
        <source>Two saved runs side by side</source>
        <translation>Два сохранённых прогона рядом</translation>
    </message>
    <message>
        <source>&amp;Presentation Mode</source>
        <translation>Режим &amp;презентации</translation>
    </message>
    <message>
        <source>Full screen, stage by stage (arrows; N for numbers; Esc to leave)</source>
        <translation>Во весь экран, по этапам (стрелки; N — цифры; Esc — выход)</translation>
    </message>
    <message>
        <source>Se&amp;ttings…</source>
        <translation>&amp;Настройки…</translation>
    </message>
    <message>
        <source>Language, theme, grid, database, simulation</source>
        <translation>Язык, тема, сетка, база, симуляция</translation>
    </message>
    <message>
        <source>&amp;Keyboard Shortcuts</source>
        <translation>&amp;Горячие клавиши</translation>
    </message>
    <message>
        <source>&amp;What Is an Auto-Funnel?</source>
        <translation>&amp;Что такое автоворонка?</translation>
    </message>
    <message>
        <source>A short introduction</source>
        <translation>Короткое введение</translation>
    </message>
    <message>
        <source>&amp;Welcome Screen</source>
        <translation>&amp;Стартовый экран</translation>
    </message>
    <message>
        <source>Templates, recent files, demo database</source>
        <translation>Шаблоны, недавние файлы, демо-база</translation>
    </message>
    <message>
        <source>&amp;About Voronka</source>
        <translation>&amp;О программе «Воронка»</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Файл</translation>
    </message>
    <message>
        <source>New from &amp;Example</source>
        <translation>Создать из &amp;шаблона</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>&amp;Недавние файлы</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>&amp;Правка</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Вид</translation>
    </message>
    <message>
        <source>F&amp;unnel</source>
        <translation>В&amp;оронка</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Справка</translation>
    </message>
    <message>
        <source>Main</source>
        <translation>Основная</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>Отменить</translation>
    </message>
    <message>
        <source>Redo</source>
        <translation>Повторить</translation>
    </message>
    <message>
        <source>Drag steps from the palette, or press Tab on the canvas to search.</source>
        <translation>Перетаскивайте шаги из палитры или нажмите Tab на холсте для поиска.</translation>
    </message>
    <message>
        <source>{errors}, {warnings}</source>
        <translation>{errors}, {warnings}</translation>
    </message>
    <message numerus="yes">
        <source>%n error(s)</source>
        <translation>
            <numerusform>%n ошибка</numerusform>
            <numerusform>%n ошибки</numerusform>
            <numerusform>%n ошибок</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n warning(s)</source>
        <translation>
            <numerusform>%n предупреждение</numerusform>
            <numerusform>%n предупреждения</numerusform>
            <numerusform>%n предупреждений</numerusform>
        </translation>
    </message>
    <message>
        <source>✓ every exit is handled</source>
        <translation>✓ все выходы обработаны</translation>
    </message>
    <message numerus="yes">
        <source>%n step(s)</source>
        <translation>
            <numerusform>%n шаг</numerusform>
            <numerusform>%n шага</numerusform>
            <numerusform>%n шагов</numerusform>
        </translation>
    </message>
    <message>
        <source>Cannot open the example</source>
        <translation>Не удаётся открыть шаблон</translation>
    </message>
    <message>
        <source>Open scenario</source>
        <translation>Открыть сценарий</translation>
    </message>
    <message>
        <source>Cannot open the file</source>
        <translation>Не удаётся открыть файл</translation>
    </message>
    <message>
        <source>Save scenario</source>
        <translation>Сохранить сценарий</translation>
    </message>
    <message>
        <source>Cannot save</source>
        <translation>Не удаётся сохранить</translation>
    </message>
    <message>
        <source>Saved {path}</source>
        <translation>Сохранено: {path}</translation>
    </message>
    <message>
        <source>No recent files</source>
        <translation>Нет недавних файлов</translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <translation>Несохранённые изменения</translation>
    </message>
    <message>
        <source>Save the changes to “{title}” before closing?</source>
        <translation>Сохранить изменения в «{title}» перед закрытием?</translation>
    </message>
    <message numerus="yes">
        <source>Cut %n step(s)</source>
        <translation>
            <numerusform>Вырезать %n шаг</numerusform>
            <numerusform>Вырезать %n шага</numerusform>
            <numerusform>Вырезать %n шагов</numerusform>
        </translation>
    </message>
    <message>
        <source>The clipboard holds no Voronka steps</source>
        <translation>В буфере обмена нет шагов «Воронки»</translation>
    </message>
    <message>
        <source>{n} contacts</source>
        <translation>Контактов: {n}</translation>
    </message>
    <message>
        <source>{n} reached ‘{stage}’ ({share} %)</source>
        <translation>дошли до «{stage}»: {n} ({share} %)</translation>
    </message>
    <message>
        <source>revenue {amount}</source>
        <translation>выручка {amount}</translation>
    </message>
    <message>
        <source>About Voronka</source>
        <translation>О программе «Воронка»</translation>
    </message>
    <message>
        <source>&lt;b&gt;Voronka&lt;/b&gt; — design marketing auto-funnels, prove every exit is handled, simulate them and export them for runtime engines.</source>
        <translation>&lt;b&gt;Воронка&lt;/b&gt; — проектируйте маркетинговые автоворонки, доказывайте, что каждый выход обработан, симулируйте их и экспортируйте для движков рассылок.</translation>
    </message>
</context>
<context>
    <name>NodeAssumptionBox</name>
    <message>
        <source>Delivered</source>
        <translation>Доставлено</translation>
    </message>
    <message>
        <source>Happens before the timeout</source>
        <translation>Происходит до таймаута</translation>
    </message>
    <message>
        <source>Fails</source>
        <translation>Сбой</translation>
    </message>
    <message>
        <source>Default: by the channel of the last message before the wait (Simulation panel)</source>
        <translation>По умолчанию: по каналу последнего сообщения перед ожиданием (панель «Симуляция»)</translation>
    </message>
    <message>
        <source>Default: {value} %</source>
        <translation>По умолчанию: {value} %</translation>
    </message>
    <message>
        <source>Default: {value} % (the channel&apos;s figure in the Simulation panel)</source>
        <translation>По умолчанию: {value} % (значение канала в панели «Симуляция»)</translation>
    </message>
    <message>
        <source>In simulation</source>
        <translation>В симуляции</translation>
    </message>
    <message>
        <source>Use your own figure for this step instead of the default</source>
        <translation>Задать для этого шага своё значение вместо значения по умолчанию</translation>
    </message>
    <message>
        <source>Set the simulated figure of ‘{step}’</source>
        <translation>Задать значение симуляции для «{step}»</translation>
    </message>
</context>
<context>
    <name>NodeType</name>
    <message>
        <source>Segment entry</source>
        <translation>Вход сегмента</translation>
    </message>
    <message>
        <source>Contacts matching a condition enter the scenario.</source>
        <translation>В сценарий входят контакты, подходящие под условие.</translation>
    </message>
    <message>
        <source>Event trigger</source>
        <translation>Триггер-событие</translation>
    </message>
    <message>
        <source>A contact enters when an event happens: a cart abandoned, a sign-up, a purchase…</source>
        <translation>Контакт входит, когда происходит событие: брошенная корзина, регистрация, покупка…</translation>
    </message>
    <message>
        <source>Send message</source>
        <translation>Сообщение</translation>
    </message>
    <message>
        <source>Sends a message. ‘failed’ is taken when there is no consent, no address, or the message is not delivered.</source>
        <translation>Отправляет сообщение. Выход «не доставлено» — когда нет согласия, нет адреса или сообщение не дошло.</translation>
    </message>
    <message>
        <source>Product offer</source>
        <translation>Предложение продукта</translation>
    </message>
    <message>
        <source>Offers a product from the product matrix, with an optional discount and promo code.</source>
        <translation>Предлагает продукт из продуктовой матрицы, по желанию со скидкой и промокодом.</translation>
    </message>
    <message>
        <source>Wait</source>
        <translation>Пауза</translation>
    </message>
    <message>
        <source>Holds the contact for a time, or until the next send window.</source>
        <translation>Задерживает контакт на заданное время или до ближайшего окна отправки.</translation>
    </message>
    <message>
        <source>Wait for event</source>
        <translation>Ожидание события</translation>
    </message>
    <message>
        <source>Waits until the contact does something (opens, clicks, buys) or the timeout passes.</source>
        <translation>Ждёт, пока контакт что-то сделает (откроет, кликнет, купит), или пока не выйдет время.</translation>
    </message>
    <message>
        <source>Condition</source>
        <translation>Условие</translation>
    </message>
    <message>
        <source>Branches on the contact&apos;s attributes, tags, events, season or day of week.</source>
        <translation>Ветвление по атрибутам контакта, тегам, событиям, сезону или дню недели.</translation>
    </message>
    <message>
        <source>Switch</source>
        <translation>Развилка</translation>
    </message>
    <message>
        <source>Checks cases in order; the first that holds decides the exit, ‘else’ takes the rest.</source>
        <translation>Проверяет варианты по порядку: первый выполненный определяет выход, остальные уходят в «иначе».</translation>
    </message>
    <message>
        <source>A/B split</source>
        <translation>A/B-сплит</translation>
    </message>
    <message>
        <source>Sends contacts down variants at random, by weight (weights sum to 100).</source>
        <translation>Случайно распределяет контакты по вариантам согласно весам (сумма весов — 100).</translation>
    </message>
    <message>
        <source>Update contact</source>
        <translation>Изменить контакт</translation>
    </message>
    <message>
        <source>Sets an attribute, adds or removes a tag, or moves the CRM stage.</source>
        <translation>Задаёт атрибут, добавляет или снимает тег, меняет этап в CRM.</translation>
    </message>
    <message>
        <source>Notify / CRM task / webhook</source>
        <translation>Оповещение / вебхук</translation>
    </message>
    <message>
        <source>Tells a manager, creates a CRM task or calls a webhook.</source>
        <translation>Сообщает менеджеру, создаёт задачу в CRM или вызывает вебхук.</translation>
    </message>
    <message>
        <source>Goal</source>
        <translation>Цель</translation>
    </message>
    <message>
        <source>Counts a conversion stage for the funnel chart, with the revenue it brings.</source>
        <translation>Засчитывает этап конверсии для графика воронки вместе с принесённой выручкой.</translation>
    </message>
    <message>
        <source>Exit</source>
        <translation>Выход</translation>
    </message>
    <message>
        <source>Where a contact leaves the scenario, with its outcome.</source>
        <translation>Здесь контакт покидает сценарий с определённым итогом.</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>Заметка</translation>
    </message>
    <message>
        <source>A sticky note for the diagram; not part of the flow.</source>
        <translation>Заметка-стикер на схеме; в логику сценария не входит.</translation>
    </message>
    <message>
        <source>Stage frame</source>
        <translation>Рамка этапа</translation>
    </message>
    <message>
        <source>A frame around a stage (Attention, Interest, Decision, Action); not part of the flow.</source>
        <translation>Рамка вокруг этапа (Внимание, Интерес, Решение, Действие); в логику сценария не входит.</translation>
    </message>
</context>
<context>
    <name>Palette</name>
    <message>
        <source>Example:</source>
        <translation>Пример:</translation>
    </message>
    <message>
        <source>Drag onto the canvas, or press Enter to add.</source>
        <translation>Перетащите на холст или нажмите Enter, чтобы добавить.</translation>
    </message>
</context>
<context>
    <name>PaletteWidget</name>
    <message>
        <source>Filter steps…</source>
        <translation>Найти шаг…</translation>
    </message>
    <message>
        <source>Matches names, type ids and descriptions</source>
        <translation>Ищет по названиям, id типов и описаниям</translation>
    </message>
    <message>
        <source>No step matches “{text}”.
Esc clears the filter.</source>
        <translation>Нет шагов по запросу «{text}».
Esc очищает фильтр.</translation>
    </message>
</context>
<context>
    <name>Parameter</name>
    <message>
        <source>Condition</source>
        <translation>Условие</translation>
    </message>
    <message>
        <source>Entry schedule</source>
        <translation>Порядок входа</translation>
    </message>
    <message>
        <source>Spread over days</source>
        <translation>Распределить на дней</translation>
    </message>
    <message>
        <source>With a spread schedule, contacts enter evenly over this many days.</source>
        <translation>При равномерном входе контакты входят равными долями за столько дней.</translation>
    </message>
    <message>
        <source>Re-entry</source>
        <translation>Повторный вход</translation>
    </message>
    <message>
        <source>May a contact enter again: never, after leaving the scenario, or at any time.</source>
        <translation>Может ли контакт войти снова: никогда, после выхода из сценария или в любой момент.</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>Событие</translation>
    </message>
    <message>
        <source>Inactive for days</source>
        <translation>Дней без активности</translation>
    </message>
    <message>
        <source>For the ‘inactive’ event: days without activity that fire it.</source>
        <translation>Для события «неактивность»: через сколько дней без активности оно срабатывает.</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>Канал</translation>
    </message>
    <message>
        <source>How the message reaches the contact. SMS and messengers need a phone and consent.</source>
        <translation>Как сообщение доходит до контакта. Для SMS и мессенджеров нужны телефон и согласие.</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Тема</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>Текст</translation>
    </message>
    <message>
        <source>Cost per message</source>
        <translation>Цена сообщения</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>Продукт</translation>
    </message>
    <message>
        <source>Discount, %</source>
        <translation>Скидка, %</translation>
    </message>
    <message>
        <source>Promo code</source>
        <translation>Промокод</translation>
    </message>
    <message>
        <source>Wait</source>
        <translation>Ждать</translation>
    </message>
    <message>
        <source>A fixed time, or until the next allowed send window.</source>
        <translation>Заданное время или до ближайшего разрешённого окна отправки.</translation>
    </message>
    <message>
        <source>Duration</source>
        <translation>Длительность</translation>
    </message>
    <message>
        <source>Window days</source>
        <translation>Дни окна</translation>
    </message>
    <message>
        <source>Window opens</source>
        <translation>Окно с</translation>
    </message>
    <message>
        <source>Window closes</source>
        <translation>Окно до</translation>
    </message>
    <message>
        <source>Timeout</source>
        <translation>Таймаут</translation>
    </message>
    <message>
        <source>How long to wait before taking the ‘timeout’ exit.</source>
        <translation>Сколько ждать, прежде чем уйти по выходу «время вышло».</translation>
    </message>
    <message>
        <source>Cases</source>
        <translation>Варианты</translation>
    </message>
    <message>
        <source>Only contacts for whom this holds enter; empty means everyone.</source>
        <translation>Входят только контакты, для которых условие верно; пусто — входят все.</translation>
    </message>
    <message>
        <source>All at once when the scenario starts, or evenly over some days, so a large segment does not flood the shop&apos;s support in one morning.</source>
        <translation>Все сразу при запуске сценария или равномерно за несколько дней, чтобы большой сегмент не завалил поддержку магазина за одно утро.</translation>
    </message>
    <message>
        <source>What the contact does (or what happens to them) that brings them in.</source>
        <translation>Что делает контакт (или что с ним происходит), чтобы попасть в воронку.</translation>
    </message>
    <message>
        <source>The e-mail&apos;s subject line (a Jinja2 template); other channels do not use it.</source>
        <translation>Тема письма (шаблон Jinja2); другие каналы её не используют.</translation>
    </message>
    <message>
        <source>The message text, a Jinja2 template: contact fields, the offer, the promo code.</source>
        <translation>Текст сообщения, шаблон Jinja2: поля контакта, предложение, промокод.</translation>
    </message>
    <message>
        <source>What one message costs in the scenario&apos;s currency; simulation adds it up.</source>
        <translation>Стоимость одного сообщения в валюте сценария; симуляция её суммирует.</translation>
    </message>
    <message>
        <source>What is offered, from the scenario&apos;s products: lead magnet, tripwire, main product, upsell or cross-sell.</source>
        <translation>Что предлагается из продуктов сценария: лид-магнит, трипвайр, основной продукт, апсейл или кросс-сейл.</translation>
    </message>
    <message>
        <source>The discount in percent; above the scenario&apos;s limit it is a warning.</source>
        <translation>Скидка в процентах; выше лимита сценария — предупреждение.</translation>
    </message>
    <message>
        <source>The code typed at checkout; the text can show it as {{ promo_code }}.</source>
        <translation>Код, который вводят при оформлении заказа; в тексте он выводится как {{ promo_code }}.</translation>
    </message>
    <message>
        <source>How long to hold the contact (ISO 8601: PT = hours and minutes).</source>
        <translation>Сколько держать контакт (ISO 8601: PT — часы и минуты).</translation>
    </message>
    <message>
        <source>The days on which the send window opens.</source>
        <translation>Дни, в которые открывается окно отправки.</translation>
    </message>
    <message>
        <source>When the window opens, 24-hour time in the scenario&apos;s time zone.</source>
        <translation>Когда открывается окно, 24-часовое время в часовом поясе сценария.</translation>
    </message>
    <message>
        <source>When the window closes; contacts arriving later wait for the next day.</source>
        <translation>Когда окно закрывается; пришедшие позже ждут следующего дня.</translation>
    </message>
    <message>
        <source>What the contact must do for the ‘happened’ exit.</source>
        <translation>Что должен сделать контакт, чтобы выйти по «произошло».</translation>
    </message>
    <message>
        <source>Contacts for whom this holds take ‘yes’, the others ‘no’.</source>
        <translation>Контакты, для которых условие верно, идут по «да», остальные — по «нет».</translation>
    </message>
    <message>
        <source>Ordered cases, each with an id, a label and a condition; the first that holds wins and each case is an exit.</source>
        <translation>Варианты по порядку, у каждого id, название и условие; срабатывает первый подходящий, каждый вариант — отдельный выход.</translation>
    </message>
    <message>
        <source>Variants</source>
        <translation>Варианты</translation>
    </message>
    <message>
        <source>Variants with a weight each; the weights add up to 100 and every variant is an exit.</source>
        <translation>Варианты с весами; веса в сумме дают 100, каждый вариант — отдельный выход.</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>Действие</translation>
    </message>
    <message>
        <source>What changes on the contact: a tag, an attribute or the CRM stage.</source>
        <translation>Что меняется у контакта: тег, атрибут или этап в CRM.</translation>
    </message>
    <message>
        <source>Tag</source>
        <translation>Тег</translation>
    </message>
    <message>
        <source>The tag to add or remove; later conditions can test it.</source>
        <translation>Тег, который добавить или снять; его могут проверять следующие условия.</translation>
    </message>
    <message>
        <source>Attribute</source>
        <translation>Атрибут</translation>
    </message>
    <message>
        <source>The contact attribute to set (with ‘set attribute’).</source>
        <translation>Атрибут контакта, который задать (для «задать атрибут»).</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>Значение</translation>
    </message>
    <message>
        <source>The attribute&apos;s new value, or the CRM stage to move the contact to.</source>
        <translation>Новое значение атрибута или этап CRM, на который перевести контакт.</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Тип</translation>
    </message>
    <message>
        <source>Tell a manager now, create a CRM task, or call a webhook of another system.</source>
        <translation>Сообщить менеджеру, создать задачу в CRM или вызвать вебхук другой системы.</translation>
    </message>
    <message>
        <source>What the manager or the task reads (a Jinja2 template).</source>
        <translation>Что прочитает менеджер или увидит задача (шаблон Jinja2).</translation>
    </message>
    <message>
        <source>Assignee</source>
        <translation>Ответственный</translation>
    </message>
    <message>
        <source>Who gets the notification or the task.</source>
        <translation>Кто получит уведомление или задачу.</translation>
    </message>
    <message>
        <source>Webhook URL</source>
        <translation>URL вебхука</translation>
    </message>
    <message>
        <source>The address the webhook calls with the contact&apos;s data.</source>
        <translation>Адрес, который вызывает вебхук с данными контакта.</translation>
    </message>
    <message>
        <source>Stage</source>
        <translation>Этап</translation>
    </message>
    <message>
        <source>The stage&apos;s name in the funnel chart; goals with one name add up.</source>
        <translation>Название этапа на графике воронки; цели с одним названием суммируются.</translation>
    </message>
    <message>
        <source>Revenue</source>
        <translation>Выручка</translation>
    </message>
    <message>
        <source>What a contact reaching this goal brings, in the scenario&apos;s currency.</source>
        <translation>Сколько приносит контакт, достигший цели, в валюте сценария.</translation>
    </message>
    <message>
        <source>Outcome</source>
        <translation>Итог</translation>
    </message>
    <message>
        <source>How the contact leaves: converted, lost, unsubscribed, disqualified, or handed to another scenario.</source>
        <translation>Как контакт выходит: конверсия, потерян, отписался, не подошёл или передан в другой сценарий.</translation>
    </message>
    <message>
        <source>Hand off to scenario</source>
        <translation>Передать в сценарий</translation>
    </message>
    <message>
        <source>With outcome ‘handoff’: the id of the scenario that takes over.</source>
        <translation>При итоге «передача»: id сценария, который подхватывает контакт.</translation>
    </message>
    <message>
        <source>What the diagram shows: the note&apos;s words or the frame&apos;s caption.</source>
        <translation>Что показывает схема: текст заметки или подпись рамки.</translation>
    </message>
    <message>
        <source>Colour</source>
        <translation>Цвет</translation>
    </message>
    <message>
        <source>The background colour on the canvas and in exported diagrams.</source>
        <translation>Цвет фона на холсте и в экспортированных схемах.</translation>
    </message>
    <message>
        <source>Width</source>
        <translation>Ширина</translation>
    </message>
    <message>
        <source>The frame&apos;s width on the canvas (a step card is 220 wide).</source>
        <translation>Ширина рамки на холсте (карточка шага шириной 220).</translation>
    </message>
    <message>
        <source>Height</source>
        <translation>Высота</translation>
    </message>
    <message>
        <source>The frame&apos;s height on the canvas; auto-layout fits it to its steps.</source>
        <translation>Высота рамки на холсте; авторасстановка подгоняет её под шаги.</translation>
    </message>
</context>
<context>
    <name>Presentation</name>
    <message>
        <source>The whole funnel</source>
        <translation>Вся воронка</translation>
    </message>
    <message>
        <source>Stage</source>
        <translation>Этап</translation>
    </message>
    <message>
        <source>Steps {first}–{last} of {count}</source>
        <translation>Шаги {first}–{last} из {count}</translation>
    </message>
</context>
<context>
    <name>PresentationWindow</name>
    <message>
        <source>{name} — Voronka presentation</source>
        <translation>{name} — презентация «Воронки»</translation>
    </message>
</context>
<context>
    <name>Problems</name>
    <message>
        <source>Error</source>
        <translation>Ошибка</translation>
    </message>
    <message>
        <source>Warning</source>
        <translation>Предупреждение</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>Заметка</translation>
    </message>
    <message>
        <source>No problems — every exit is handled ✓</source>
        <translation>Проблем нет — все выходы обработаны ✓</translation>
    </message>
    <message numerus="yes">
        <source>%n error(s)</source>
        <translation>
            <numerusform>%n ошибка</numerusform>
            <numerusform>%n ошибки</numerusform>
            <numerusform>%n ошибок</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n warning(s)</source>
        <translation>
            <numerusform>%n предупреждение</numerusform>
            <numerusform>%n предупреждения</numerusform>
            <numerusform>%n предупреждений</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n note(s)</source>
        <translation>
            <numerusform>%n заметка</numerusform>
            <numerusform>%n заметки</numerusform>
            <numerusform>%n заметок</numerusform>
        </translation>
    </message>
    <message>
        <source>Fix:</source>
        <translation>Как исправить:</translation>
    </message>
    <message>
        <source>Click the code for the full explanation.</source>
        <translation>Нажмите на код, чтобы открыть подробное объяснение.</translation>
    </message>
</context>
<context>
    <name>ProblemsWidget</name>
    <message>
        <source>Code</source>
        <translation>Код</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>Шаг</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>Сообщение</translation>
    </message>
    <message>
        <source>Scenario</source>
        <translation>Сценарий</translation>
    </message>
</context>
<context>
    <name>ProductEditor</name>
    <message>
        <source>Choose a product…</source>
        <translation>Выберите продукт…</translation>
    </message>
</context>
<context>
    <name>QuickSearch</name>
    <message>
        <source>Add a step: type to search…</source>
        <translation>Добавить шаг: начните вводить…</translation>
    </message>
</context>
<context>
    <name>Quote</name>
    <message>
        <source>‘{text}’</source>
        <translation>«{text}»</translation>
    </message>
</context>
<context>
    <name>RecentRow</name>
    <message>
        <source>Remove</source>
        <translation>Убрать</translation>
    </message>
    <message>
        <source>Remove it from the recent files</source>
        <translation>Убрать из недавних файлов</translation>
    </message>
</context>
<context>
    <name>Recovery</name>
    <message>
        <source>Recover unsaved work</source>
        <translation>Восстановить несохранённую работу</translation>
    </message>
    <message>
        <source>Voronka did not close cleanly last time. Restore the unsaved funnel from {file}?</source>
        <translation>В прошлый раз «Воронка» закрылась некорректно. Восстановить несохранённую воронку из {file}?</translation>
    </message>
    <message>
        <source>Cannot recover</source>
        <translation>Не удаётся восстановить</translation>
    </message>
</context>
<context>
    <name>Report</name>
    <message>
        <source>Unknown type ‘{type}’</source>
        <translation>Неизвестный тип «{type}»</translation>
    </message>
    <message>
        <source>of {n} in the base</source>
        <translation>из {n} в базе</translation>
    </message>
    <message>
        <source>The whole funnel</source>
        <translation>Вся воронка</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>Ошибка</translation>
    </message>
    <message>
        <source>Warning</source>
        <translation>Предупреждение</translation>
    </message>
    <message>
        <source>Funnel report</source>
        <translation>Отчёт о воронке</translation>
    </message>
    <message>
        <source>{title} — funnel report</source>
        <translation>{title} — отчёт о воронке</translation>
    </message>
    <message>
        <source>The funnel</source>
        <translation>Воронка</translation>
    </message>
    <message>
        <source>Open red ports are exits that lead nowhere: contacts would leak there.</source>
        <translation>Открытые красные порты — выходы, которые никуда не ведут: там контакты были бы потеряны.</translation>
    </message>
    <message>
        <source>Steps and messages</source>
        <translation>Шаги и сообщения</translation>
    </message>
    <message>
        <source>In the order a contact meets them. Messages are shown as a sample contact ({sample}) would receive them.</source>
        <translation>В том порядке, в каком их проходит контакт. Сообщения показаны так, как их получил бы пример контакта ({sample}).</translation>
    </message>
    <message>
        <source>Validation</source>
        <translation>Проверка</translation>
    </message>
    <message>
        <source>No problems: every exit of every step is handled.</source>
        <translation>Проблем нет: у каждого шага обработан каждый выход.</translation>
    </message>
    <message>
        <source>{errors}, {warnings}.</source>
        <translation>{errors}, {warnings}.</translation>
    </message>
    <message>
        <source>Errors must be fixed before the funnel can run.</source>
        <translation>Ошибки нужно исправить, прежде чем запускать воронку.</translation>
    </message>
    <message>
        <source>Severity</source>
        <translation>Важность</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>Шаг</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>Проблема</translation>
    </message>
    <message>
        <source>Simulation results</source>
        <translation>Результаты симуляции</translation>
    </message>
    <message>
        <source>Stage</source>
        <translation>Этап</translation>
    </message>
    <message>
        <source>Contacts</source>
        <translation>Контакты</translation>
    </message>
    <message>
        <source>95 % range</source>
        <translation>Диапазон 95 %</translation>
    </message>
    <message>
        <source>From previous</source>
        <translation>От предыдущего</translation>
    </message>
    <message>
        <source>From start</source>
        <translation>От начала</translation>
    </message>
    <message>
        <source>Revenue</source>
        <translation>Выручка</translation>
    </message>
    <message>
        <source>Made with Voronka</source>
        <translation>Сделано в Voronka</translation>
    </message>
    <message numerus="yes">
        <source>%n simulated day(s)</source>
        <translation>
            <numerusform>%n день симуляции</numerusform>
            <numerusform>%n дня симуляции</numerusform>
            <numerusform>%n дней симуляции</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n message(s) per {period}</source>
        <translation>
            <numerusform>%n сообщение за {period}</numerusform>
            <numerusform>%n сообщения за {period}</numerusform>
            <numerusform>%n сообщений за {period}</numerusform>
        </translation>
    </message>
    <message>
        <source>Still in the funnel</source>
        <translation>Ещё в воронке</translation>
    </message>
    <message>
        <source>The template is shown as written: it could not be filled in for the sample contact ({problem}).</source>
        <translation>Шаблон показан как написан: его не удалось заполнить для примера контакта ({problem}).</translation>
    </message>
    <message>
        <source>{days}, seed {seed}, {runs}: figures are from the first, ranges the 2.5–97.5 % spread across all.</source>
        <translation>{days}, зерно {seed}, {runs}: числа — из первого прогона, диапазоны — разброс 2,5–97,5 % по всем.</translation>
    </message>
    <message>
        <source>{days}, seed {seed}.</source>
        <translation>{days}, зерно {seed}.</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>Шаги</translation>
    </message>
    <message>
        <source>Messages</source>
        <translation>Сообщения</translation>
    </message>
    <message>
        <source>Channels</source>
        <translation>Каналы</translation>
    </message>
    <message>
        <source>Currency</source>
        <translation>Валюта</translation>
    </message>
    <message>
        <source>95 % range:</source>
        <translation>диапазон 95 %:</translation>
    </message>
    <message>
        <source>Contacts entered</source>
        <translation>Вошло контактов</translation>
    </message>
    <message>
        <source>Converted</source>
        <translation>Конверсий</translation>
    </message>
    <message>
        <source>Conversion</source>
        <translation>Конверсия</translation>
    </message>
    <message>
        <source>Messages sent</source>
        <translation>Отправлено сообщений</translation>
    </message>
    <message>
        <source>Cost of messages</source>
        <translation>Стоимость сообщений</translation>
    </message>
    <message>
        <source>Funnel</source>
        <translation>Воронка</translation>
    </message>
    <message numerus="yes">
        <source>%n error(s)</source>
        <translation>
            <numerusform>%n ошибка</numerusform>
            <numerusform>%n ошибки</numerusform>
            <numerusform>%n ошибок</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n warning(s)</source>
        <translation>
            <numerusform>%n предупреждение</numerusform>
            <numerusform>%n предупреждения</numerusform>
            <numerusform>%n предупреждений</numerusform>
        </translation>
    </message>
    <message>
        <source>then</source>
        <translation>далее</translation>
    </message>
    <message>
        <source>none</source>
        <translation>нет</translation>
    </message>
    <message>
        <source>Quiet hours</source>
        <translation>Тихие часы</translation>
    </message>
    <message>
        <source>Frequency cap</source>
        <translation>Лимит частоты</translation>
    </message>
    <message>
        <source>at the horizon</source>
        <translation>на конец горизонта</translation>
    </message>
    <message numerus="yes">
        <source>%n run(s)</source>
        <translation>
            <numerusform>%n прогон</numerusform>
            <numerusform>%n прогона</numerusform>
            <numerusform>%n прогонов</numerusform>
        </translation>
    </message>
    <message>
        <source>not connected</source>
        <translation>не подключён</translation>
    </message>
    <message>
        <source>The next {pages} show the diagram in parts, large enough to read every step.</source>
        <translation>На следующих страницах ({pages}) схема показана по частям, достаточно крупно, чтобы прочесть каждый шаг.</translation>
    </message>
    <message>
        <source>Page {n}</source>
        <translation>Страница {n}</translation>
    </message>
    <message>
        <source>The funnel, part {n} of {total}</source>
        <translation>Воронка, часть {n} из {total}</translation>
    </message>
    <message numerus="yes">
        <source>%n page(s)</source>
        <translation>
            <numerusform>%n страница</numerusform>
            <numerusform>%n страницы</numerusform>
            <numerusform>%n страниц</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ResultsPanel</name>
    <message>
        <source>Run a simulation (F9) to see the funnel, channels, messages and conversion times.</source>
        <translation>Запустите симуляцию (F9), чтобы увидеть воронку, каналы, сообщения и время до конверсии.</translation>
    </message>
    <message>
        <source>The funnel changed since this run; the charts show the run as it was.</source>
        <translation>Воронка изменилась после этого прогона; графики показывают прогон таким, каким он был.</translation>
    </message>
    <message>
        <source>Seed {seed} · {days} from {start} · {entered} contacts entered</source>
        <translation>Зерно {seed} · {days} с {start} · вошло контактов: {entered}</translation>
    </message>
    <message numerus="yes">
        <source>%n day(s)</source>
        <translation>
            <numerusform>%n день</numerusform>
            <numerusform>%n дня</numerusform>
            <numerusform>%n дней</numerusform>
        </translation>
    </message>
    <message>
        <source>with 95 % ranges over the runs</source>
        <translation>с 95 % диапазонами по прогонам</translation>
    </message>
</context>
<context>
    <name>Rule</name>
    <message>
        <source>The scenario has no entry</source>
        <translation>В сценарии нет входа</translation>
    </message>
    <message>
        <source>An exit has no connection</source>
        <translation>Выход никуда не ведёт</translation>
    </message>
    <message>
        <source>Two connections leave one exit</source>
        <translation>Из одного выхода идут две связи</translation>
    </message>
    <message>
        <source>A connection leads into an entry or a note</source>
        <translation>Связь ведёт во вход или в заметку</translation>
    </message>
    <message>
        <source>A connection names a step that does not exist</source>
        <translation>Связь указывает на несуществующий шаг</translation>
    </message>
    <message>
        <source>A connection leaves from an exit the step does not have</source>
        <translation>Связь выходит из выхода, которого у шага нет</translation>
    </message>
    <message>
        <source>A step cannot be reached from any entry</source>
        <translation>До шага нельзя дойти ни от одного входа</translation>
    </message>
    <message>
        <source>Contacts can never leave: no Exit can be reached</source>
        <translation>Контакты не могут выйти: ни один «Выход» недостижим</translation>
    </message>
    <message>
        <source>A loop has no wait in it</source>
        <translation>В цикле нет паузы</translation>
    </message>
    <message>
        <source>A switch has no ‘else’ connection</source>
        <translation>У развилки не подключён выход «иначе»</translation>
    </message>
    <message>
        <source>A/B split weights are wrong</source>
        <translation>Неверные веса A/B-сплита</translation>
    </message>
    <message>
        <source>Switch cases or split variants have missing or repeated ids</source>
        <translation>У вариантов развилки или сплита нет id или id повторяются</translation>
    </message>
    <message>
        <source>Wait for event has no timeout</source>
        <translation>У ожидания события нет таймаута</translation>
    </message>
    <message>
        <source>A duration or time cannot be read</source>
        <translation>Не удаётся прочитать длительность или время</translation>
    </message>
    <message>
        <source>A step has a type this version does not know</source>
        <translation>Тип шага неизвестен этой версии</translation>
    </message>
    <message>
        <source>A parameter is missing or out of range</source>
        <translation>Параметр не задан или вне допустимых значений</translation>
    </message>
    <message>
        <source>A condition cannot be read</source>
        <translation>Не удаётся прочитать условие</translation>
    </message>
    <message>
        <source>A condition names an unknown field, tag or event, or mixes types</source>
        <translation>Условие ссылается на неизвестное поле, тег или событие либо смешивает типы</translation>
    </message>
    <message>
        <source>A message template cannot be read or names unknown data</source>
        <translation>Шаблон сообщения не читается или ссылается на неизвестные данные</translation>
    </message>
    <message>
        <source>An event is unknown</source>
        <translation>Неизвестное событие</translation>
    </message>
    <message>
        <source>An offer names a product that does not exist</source>
        <translation>Предложение ссылается на несуществующий продукт</translation>
    </message>
    <message>
        <source>A message has no channel or no text</source>
        <translation>У сообщения нет канала или текста</translation>
    </message>
    <message>
        <source>A discount is above the scenario&apos;s limit</source>
        <translation>Скидка выше лимита сценария</translation>
    </message>
    <message>
        <source>A path can send more messages than the frequency cap allows</source>
        <translation>Путь может отправить больше сообщений, чем позволяет лимит частоты</translation>
    </message>
    <message>
        <source>A message can be sent in quiet hours</source>
        <translation>Сообщение может уйти в тихие часы</translation>
    </message>
    <message>
        <source>A wait only delays leaving</source>
        <translation>Пауза лишь откладывает выход</translation>
    </message>
    <message>
        <source>A branch is ruled out by the conditions before it</source>
        <translation>Ветку исключают предыдущие условия</translation>
    </message>
    <message>
        <source>A condition is always true or always false</source>
        <translation>Условие всегда истинно или всегда ложно</translation>
    </message>
    <message>
        <source>Switch cases overlap</source>
        <translation>Варианты развилки пересекаются</translation>
    </message>
    <message>
        <source>No reachable Exit counts as converted</source>
        <translation>Ни один достижимый «Выход» не засчитывает конверсию</translation>
    </message>
    <message>
        <source>A failed SMS or messenger message gives up on the contact</source>
        <translation>Недоставленное SMS или сообщение в мессенджере бросает контакт</translation>
    </message>
</context>
<context>
    <name>RunComparisonDialog</name>
    <message>
        <source>Entered</source>
        <translation>Вошли</translation>
    </message>
    <message>
        <source>Converted</source>
        <translation>Конверсии</translation>
    </message>
    <message>
        <source>Conversion</source>
        <translation>Конверсия</translation>
    </message>
    <message>
        <source>Revenue</source>
        <translation>Выручка</translation>
    </message>
    <message>
        <source>Messages</source>
        <translation>Сообщения</translation>
    </message>
    <message>
        <source>Cost</source>
        <translation>Расходы</translation>
    </message>
    <message>
        <source>Still waiting</source>
        <translation>Ещё ждут</translation>
    </message>
    <message>
        <source>Contacts</source>
        <translation>Контакты</translation>
    </message>
    <message>
        <source>From previous stage</source>
        <translation>От предыдущего этапа</translation>
    </message>
    <message>
        <source>From start</source>
        <translation>От начала</translation>
    </message>
    <message>
        <source>Delivered</source>
        <translation>Доставлено</translation>
    </message>
    <message>
        <source>Unreachable</source>
        <translation>Недоступны</translation>
    </message>
    <message>
        <source>funnel</source>
        <translation>воронка</translation>
    </message>
    <message>
        <source>funnel content</source>
        <translation>содержимое воронки</translation>
    </message>
    <message>
        <source>segment</source>
        <translation>сегмент</translation>
    </message>
    <message>
        <source>runs</source>
        <translation>прогонов</translation>
    </message>
    <message>
        <source>contact data</source>
        <translation>данные контактов</translation>
    </message>
    <message>
        <source>seed</source>
        <translation>зерно</translation>
    </message>
    <message>
        <source>horizon, days</source>
        <translation>горизонт, дней</translation>
    </message>
    <message>
        <source>start</source>
        <translation>начало</translation>
    </message>
    <message>
        <source>contacts in the base</source>
        <translation>контактов в базе</translation>
    </message>
    <message>
        <source>Compare Runs — {name}</source>
        <translation>Сравнение прогонов — {name}</translation>
    </message>
    <message>
        <source>Swap A and B</source>
        <translation>Поменять A и B</translation>
    </message>
    <message>
        <source>A</source>
        <translation>A</translation>
    </message>
    <message>
        <source>B</source>
        <translation>B</translation>
    </message>
    <message>
        <source>Runs of every funnel in this database</source>
        <translation>Прогоны всех воронок в этой базе</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>Итоги</translation>
    </message>
    <message>
        <source>Funnel stages</source>
        <translation>Этапы воронки</translation>
    </message>
    <message>
        <source>Every step (not only those that differ)</source>
        <translation>Все шаги (не только различающиеся)</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>Шаги</translation>
    </message>
    <message>
        <source>Channels</source>
        <translation>Каналы</translation>
    </message>
    <message>
        <source>The database cannot be read: {error}</source>
        <translation>Базу данных не удаётся прочитать: {error}</translation>
    </message>
    <message>
        <source>Save at least two runs of this funnel to compare them: run the simulation, then Save run… in the Simulation panel (or voronka simulate --save).</source>
        <translation>Чтобы сравнить прогоны, сохраните хотя бы два прогона этой воронки: запустите симуляцию, затем «Сохранить прогон…» на панели «Симуляция» (или voronka simulate --save).</translation>
    </message>
    <message>
        <source>{n} converted</source>
        <translation>конверсий: {n}</translation>
    </message>
    <message>
        <source>earlier version</source>
        <translation>прежняя версия</translation>
    </message>
    <message>
        <source>the funnel itself (steps, texts or settings)</source>
        <translation>сама воронка (шаги, тексты или настройки)</translation>
    </message>
    <message>
        <source>&lt;b&gt;What differs in the inputs&lt;/b&gt; (A → B):</source>
        <translation>&lt;b&gt;Чем различаются входные данные&lt;/b&gt; (A → B):</translation>
    </message>
    <message>
        <source>&lt;b&gt;Same inputs&lt;/b&gt; (funnel, segment, seed, horizon, start, behaviour): the runs should be equal.</source>
        <translation>&lt;b&gt;Входные данные совпадают&lt;/b&gt; (воронка, сегмент, зерно, горизонт, начало, поведение): прогоны должны быть равны.</translation>
    </message>
    <message>
        <source>Figure</source>
        <translation>Показатель</translation>
    </message>
    <message>
        <source>Stage</source>
        <translation>Этап</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>Шаг</translation>
    </message>
    <message>
        <source>Count</source>
        <translation>Счётчик</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>Канал</translation>
    </message>
    <message>
        <source>Change</source>
        <translation>Изменение</translation>
    </message>
    <message>
        <source>Change %</source>
        <translation>Изменение, %</translation>
    </message>
    <message>
        <source>{points} pp</source>
        <translation>{points} п. п.</translation>
    </message>
</context>
<context>
    <name>Runs</name>
    <message>
        <source>the label is {length} characters long; at most {limit}</source>
        <translation>метка длиной {length} символов; допустимо не больше {limit}</translation>
    </message>
    <message>
        <source>the seed {seed} does not fit in 64 bits and cannot be stored</source>
        <translation>зерно {seed} не помещается в 64 бита и не может быть сохранено</translation>
    </message>
    <message>
        <source>there is no stored run {id}</source>
        <translation>нет сохранённого прогона {id}</translation>
    </message>
</context>
<context>
    <name>ScenarioSettingsForm</name>
    <message>
        <source>Untitled funnel</source>
        <translation>Воронка без названия</translation>
    </message>
    <message>
        <source>The funnel&apos;s name in reports and the title bar, e.g. Win-back</source>
        <translation>Название воронки в отчётах и заголовке окна, например «Возврат клиентов»</translation>
    </message>
    <message>
        <source>A three-letter ISO code: prices and costs are in it</source>
        <translation>Трёхбуквенный код ISO: в этой валюте цены и затраты</translation>
    </message>
    <message>
        <source>Hold messages during these hours (contacts&apos; local time)</source>
        <translation>Придерживать сообщения в эти часы (местное время контакта)</translation>
    </message>
    <message>
        <source>Send no contact more messages than this in any such period</source>
        <translation>Не отправлять контакту больше сообщений за любой такой период</translation>
    </message>
    <message>
        <source> messages</source>
        <translation> сообщ.</translation>
    </message>
    <message>
        <source>The most messages one contact may get per period, e.g. 3</source>
        <translation>Сколько сообщений максимум получит один контакт за период, например 3</translation>
    </message>
    <message>
        <source>A period such as P1D (a day) or P7D (a week)</source>
        <translation>Период вида P1D (день) или P7D (неделя)</translation>
    </message>
    <message>
        <source>Quiet hours begin (24-hour time), e.g. 22:00</source>
        <translation>Начало тихих часов (24-часовое время), например 22:00</translation>
    </message>
    <message>
        <source>Quiet hours end, e.g. 09:00: messages wait until then</source>
        <translation>Конец тихих часов, например 09:00: до этого сообщения ждут</translation>
    </message>
    <message>
        <source>HH:MM</source>
        <translation>ЧЧ:ММ</translation>
    </message>
    <message>
        <source>per</source>
        <translation>за</translation>
    </message>
    <message>
        <source>Scenario</source>
        <translation>Сценарий</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>Название:</translation>
    </message>
    <message>
        <source>Currency:</source>
        <translation>Валюта:</translation>
    </message>
    <message>
        <source>Quiet hours:</source>
        <translation>Тихие часы:</translation>
    </message>
    <message>
        <source>Frequency cap:</source>
        <translation>Лимит частоты:</translation>
    </message>
    <message>
        <source>Rename the scenario</source>
        <translation>Переименовать сценарий</translation>
    </message>
    <message>
        <source>Currency: a three-letter code such as RUB, USD or EUR</source>
        <translation>Валюта: трёхбуквенный код, например RUB, USD или EUR</translation>
    </message>
    <message>
        <source>Quiet hours: write both times as HH:MM, e.g. 22:00 and 09:00</source>
        <translation>Тихие часы: укажите оба времени как ЧЧ:ММ, например 22:00 и 09:00</translation>
    </message>
    <message>
        <source>Frequency cap: {problem}</source>
        <translation>Лимит частоты: {problem}</translation>
    </message>
    <message>
        <source>Change the scenario settings</source>
        <translation>Изменить настройки сценария</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings — Voronka</source>
        <translation>Настройки — «Воронка»</translation>
    </message>
    <message>
        <source>General</source>
        <translation>Общие</translation>
    </message>
    <message>
        <source>Editor</source>
        <translation>Редактор</translation>
    </message>
    <message>
        <source>Contact database</source>
        <translation>База контактов</translation>
    </message>
    <message>
        <source>Simulation</source>
        <translation>Симуляция</translation>
    </message>
    <message>
        <source>System language ({name})</source>
        <translation>Язык системы ({name})</translation>
    </message>
    <message>
        <source>The interface language changes the next time Voronka starts; help pages change at once.</source>
        <translation>Язык интерфейса сменится при следующем запуске «Воронки»; справка — сразу.</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>Светлая</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>Тёмная</translation>
    </message>
    <message>
        <source>Colours of the canvas</source>
        <translation>Цвета холста</translation>
    </message>
    <message>
        <source>Language:</source>
        <translation>Язык:</translation>
    </message>
    <message>
        <source>Theme:</source>
        <translation>Тема:</translation>
    </message>
    <message>
        <source>Show the grid on the canvas</source>
        <translation>Показывать сетку на холсте</translation>
    </message>
    <message>
        <source>Snap steps to the grid when they are moved</source>
        <translation>Привязывать шаги к сетке при перемещении</translation>
    </message>
    <message>
        <source> px</source>
        <translation> пкс</translation>
    </message>
    <message>
        <source>Distance between grid lines at 100 % zoom; a step is 220 wide</source>
        <translation>Расстояние между линиями сетки при масштабе 100 %; ширина шага — 220</translation>
    </message>
    <message>
        <source> s</source>
        <translation> с</translation>
    </message>
    <message>
        <source>After each change, Voronka keeps a recovery copy this many seconds later, so a crash loses at most that much work. Your file is only written when you save.</source>
        <translation>После каждого изменения «Воронка» через столько секунд сохраняет копию для восстановления, так что сбой отнимет не больше этой работы. Сам файл записывается только при сохранении.</translation>
    </message>
    <message>
        <source>Grid size:</source>
        <translation>Шаг сетки:</translation>
    </message>
    <message>
        <source>Recovery copy after:</source>
        <translation>Копия для восстановления через:</translation>
    </message>
    <message>
        <source>Unsaved work is offered back after a crash.</source>
        <translation>После сбоя несохранённая работа будет предложена к восстановлению.</translation>
    </message>
    <message>
        <source>An SQLite file, or a database URL such as postgresql+psycopg://user:password@host/crm for a base the team shares</source>
        <translation>Файл SQLite или URL базы данных, например postgresql+psycopg://user:password@host/crm для общей базы команды</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Обзор…</translation>
    </message>
    <message>
        <source>Database:</source>
        <translation>База:</translation>
    </message>
    <message>
        <source>Leave empty for the default: the ${variable} URL when it is set, otherwise an SQLite file in your data folder.</source>
        <translation>Оставьте пустым для значения по умолчанию: URL из ${variable}, если она задана, иначе файл SQLite в папке данных.</translation>
    </message>
    <message>
        <source> days</source>
        <translation> дн.</translation>
    </message>
    <message>
        <source>How long a simulation follows the contacts</source>
        <translation>Сколько дней симуляция следит за контактами</translation>
    </message>
    <message>
        <source>The same seed gives the same result; change it to see the spread</source>
        <translation>Одно и то же зерно даёт один и тот же результат; измените его, чтобы увидеть разброс</translation>
    </message>
    <message>
        <source>Runs with different seeds; more than one gives a 95 % range for each figure</source>
        <translation>Прогоны с разными зёрнами; больше одного дают 95 % диапазон для каждой цифры</translation>
    </message>
    <message>
        <source>Horizon:</source>
        <translation>Период:</translation>
    </message>
    <message>
        <source>Seed:</source>
        <translation>Зерно:</translation>
    </message>
    <message>
        <source>Replications:</source>
        <translation>Прогоны:</translation>
    </message>
    <message>
        <source>What a new funnel&apos;s simulation assumes per channel, in percent. Grey: the published benchmark; type a figure from your own reports to override it, clear it to go back.</source>
        <translation>Что симуляция новой воронки предполагает по каждому каналу, в процентах. Серым — опубликованные отраслевые значения; впишите цифру из своих отчётов, чтобы заменить её, очистите — чтобы вернуть.</translation>
    </message>
    <message>
        <source>SQLite databases (*.sqlite3 *.sqlite *.db);;All files (*)</source>
        <translation>Базы SQLite (*.sqlite3 *.sqlite *.db);;Все файлы (*)</translation>
    </message>
</context>
<context>
    <name>ShortcutsDialog</name>
    <message>
        <source>Keyboard shortcuts — Voronka</source>
        <translation>Горячие клавиши — «Воронка»</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>Действие</translation>
    </message>
    <message>
        <source>Keys</source>
        <translation>Клавиши</translation>
    </message>
    <message>
        <source>Menu</source>
        <translation>Меню</translation>
    </message>
    <message>
        <source>Gesture</source>
        <translation>Жест</translation>
    </message>
    <message>
        <source>What it does</source>
        <translation>Что делает</translation>
    </message>
    <message>
        <source>Keyboard</source>
        <translation>Клавиатура</translation>
    </message>
    <message>
        <source>On the canvas</source>
        <translation>На холсте</translation>
    </message>
</context>
<context>
    <name>Simulation</name>
    <message>
        <source>condition {text}: {problem}</source>
        <translation>условие {text}: {problem}</translation>
    </message>
    <message>
        <source>the horizon and the number of replications must be positive</source>
        <translation>период и число прогонов должны быть положительными</translation>
    </message>
    <message>
        <source>a horizon of {days} days is too long (at most {limit})</source>
        <translation>период {days} дн. слишком длинный (не больше {limit})</translation>
    </message>
    <message>
        <source>the scenario has errors and cannot be simulated:</source>
        <translation>в сценарии есть ошибки, симуляция невозможна:</translation>
    </message>
    <message>
        <source>contacts loop through a cycle without time passing</source>
        <translation>контакты ходят по циклу, не тратя времени</translation>
    </message>
    <message>
        <source>‘{id}’ has type ‘{type}’, which cannot be simulated</source>
        <translation>у «{id}» тип «{type}», который нельзя симулировать</translation>
    </message>
    <message>
        <source>Reading contacts…</source>
        <translation>Чтение контактов…</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>Готово</translation>
    </message>
    <message>
        <source>Simulating {count} contacts — run {run} of {total}…</source>
        <translation>Симуляция: контактов {count} — прогон {run} из {total}…</translation>
    </message>
    <message>
        <source>Simulating {count} contacts…</source>
        <translation>Симуляция: контактов {count}…</translation>
    </message>
</context>
<context>
    <name>SimulationPanel</name>
    <message>
        <source>A SQLite file or a database URL, e.g. postgresql+psycopg://user@host/contacts</source>
        <translation>Файл SQLite или URL базы данных, например postgresql+psycopg://user@host/contacts</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Обзор…</translation>
    </message>
    <message>
        <source>Database</source>
        <translation>База</translation>
    </message>
    <message numerus="yes">
        <source>Create demo database ({n} contact(s))</source>
        <translation>
            <numerusform>Создать демо-базу ({n} контакт)</numerusform>
            <numerusform>Создать демо-базу ({n} контакта)</numerusform>
            <numerusform>Создать демо-базу ({n} контактов)</numerusform>
        </translation>
    </message>
    <message>
        <source>everyone, or e.g. &apos;vip&apos; in tags and age &gt;= 25</source>
        <translation>все или, например, &apos;vip&apos; in tags and age &gt;= 25</translation>
    </message>
    <message>
        <source>Segment</source>
        <translation>Сегмент</translation>
    </message>
    <message>
        <source> days</source>
        <translation> дн.</translation>
    </message>
    <message>
        <source>The same seed gives the same numbers, run after run</source>
        <translation>Одно и то же зерно даёт одни и те же цифры при каждом запуске</translation>
    </message>
    <message>
        <source>Repeat the run with derived seeds to get 95 % intervals for the headline figures</source>
        <translation>Повторить прогон с производными зёрнами, чтобы получить 95 % интервалы для итоговых цифр</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>Зерно</translation>
    </message>
    <message>
        <source>Runs</source>
        <translation>Прогоны</translation>
    </message>
    <message>
        <source>Horizon</source>
        <translation>Период</translation>
    </message>
    <message>
        <source>Starts on</source>
        <translation>Начало</translation>
    </message>
    <message>
        <source>Behaviour assumptions per channel</source>
        <translation>Допущения о поведении по каналам</translation>
    </message>
    <message>
        <source>Run simulation</source>
        <translation>Запустить симуляцию</translation>
    </message>
    <message>
        <source>Simulate the funnel over the database (F9)</source>
        <translation>Прогнать воронку по базе (F9)</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Отмена</translation>
    </message>
    <message>
        <source>Not run yet.</source>
        <translation>Ещё не запускалась.</translation>
    </message>
    <message>
        <source>Numbers on the canvas</source>
        <translation>Цифры на холсте</translation>
    </message>
    <message>
        <source>As percentages</source>
        <translation>В процентах</translation>
    </message>
    <message>
        <source>Stage</source>
        <translation>Этап</translation>
    </message>
    <message>
        <source>Contacts</source>
        <translation>Контакты</translation>
    </message>
    <message>
        <source>From start</source>
        <translation>От входа</translation>
    </message>
    <message>
        <source>Preview as contact…</source>
        <translation>Пройти как контакт…</translation>
    </message>
    <message>
        <source>Pick a contact and follow its path step by step, with every message rendered</source>
        <translation>Выберите контакт и пройдите его путь шаг за шагом, с каждым сообщением в готовом виде</translation>
    </message>
    <message>
        <source>Save run…</source>
        <translation>Сохранить прогон…</translation>
    </message>
    <message>
        <source>Keep this run in the database, with a label, to compare it with others</source>
        <translation>Сохранить этот прогон в базе, с подписью, чтобы сравнить его с другими</translation>
    </message>
    <message>
        <source>Compare runs…</source>
        <translation>Сравнить прогоны…</translation>
    </message>
    <message>
        <source>Two saved runs side by side: inputs, figures, stages, steps, channels</source>
        <translation>Два сохранённых прогона рядом: входные данные, показатели, этапы, шаги, каналы</translation>
    </message>
    <message>
        <source>Contact database</source>
        <translation>База контактов</translation>
    </message>
    <message>
        <source>SQLite databases (*.sqlite3 *.sqlite *.db);;All files (*)</source>
        <translation>Базы SQLite (*.sqlite3 *.sqlite *.db);;Все файлы (*)</translation>
    </message>
    <message>
        <source>There is no database at {path} yet. Create a demo one to try the funnel, or import contacts with ‘voronka db import’.</source>
        <translation>По адресу {path} базы пока нет. Создайте демо-базу, чтобы опробовать воронку, или импортируйте контакты командой «voronka db import».</translation>
    </message>
    <message>
        <source>Contacts from {where}</source>
        <translation>Контакты из {where}</translation>
    </message>
    <message numerus="yes">
        <source>Fix the %n error(s) in Problems first: a funnel with holes cannot be simulated.</source>
        <translation>
            <numerusform>Сначала исправьте %n ошибку в «Проблемах»: воронку с дырами нельзя симулировать.</numerusform>
            <numerusform>Сначала исправьте %n ошибки в «Проблемах»: воронку с дырами нельзя симулировать.</numerusform>
            <numerusform>Сначала исправьте %n ошибок в «Проблемах»: воронку с дырами нельзя симулировать.</numerusform>
        </translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>Запуск…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>Отмена…</translation>
    </message>
    <message>
        <source>Creating the demo database…</source>
        <translation>Создание демо-базы…</translation>
    </message>
    <message>
        <source>{entered} of {count} contacts entered · seed {seed} · {days} · {seconds} s</source>
        <translation>Вошло {entered} из {count} контактов · зерно {seed} · {days} · {seconds} с</translation>
    </message>
    <message numerus="yes">
        <source>%n day(s)</source>
        <translation>
            <numerusform>%n день</numerusform>
            <numerusform>%n дня</numerusform>
            <numerusform>%n дней</numerusform>
        </translation>
    </message>
    <message>
        <source>Demo database ready: {n} contacts.</source>
        <translation>Демо-база готова: контактов {n}.</translation>
    </message>
    <message>
        <source>Demo contact database created</source>
        <translation>Демо-база контактов создана</translation>
    </message>
    <message>
        <source>Cancelled; the last results (if any) are unchanged.</source>
        <translation>Отменено; прежние результаты (если были) не изменились.</translation>
    </message>
    <message>
        <source>Seed {seed}, {days}</source>
        <translation>Зерно {seed}, {days}</translation>
    </message>
    <message>
        <source>Save Run</source>
        <translation>Сохранение прогона</translation>
    </message>
    <message>
        <source>A label to tell this run apart (e.g. 10 % discount):</source>
        <translation>Подпись, по которой прогон легко узнать (например, «скидка 10 %»):</translation>
    </message>
    <message>
        <source>The run was not saved: {error}</source>
        <translation>Прогон не сохранён: {error}</translation>
    </message>
    <message>
        <source>Saved as run #{id}. Compare runs… shows it next to another.</source>
        <translation>Сохранён как прогон №{id}. «Сравнить прогоны…» покажет его рядом с другим.</translation>
    </message>
    <message>
        <source>Run #{id} saved</source>
        <translation>Прогон №{id} сохранён</translation>
    </message>
    <message>
        <source>The funnel changed since this run: the numbers are out of date. Run again.</source>
        <translation>Воронка изменилась после этого прогона: цифры устарели. Запустите снова.</translation>
    </message>
    <message>
        <source>&lt;b&gt;{converted}&lt;/b&gt; converted ({rate}) · revenue &lt;b&gt;{revenue}&lt;/b&gt;</source>
        <translation>Конверсий: &lt;b&gt;{converted}&lt;/b&gt; ({rate}) · выручка &lt;b&gt;{revenue}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>{lost} left without converting</source>
        <translation>Ушли без конверсии: {lost}</translation>
    </message>
    <message>
        <source>, {n} still waiting</source>
        <translation>, ещё ждут: {n}</translation>
    </message>
    <message numerus="yes">
        <source>Over %n run(s): {mean} converted (95 %: {low}–{high})</source>
        <translation>
            <numerusform>За %n прогон: конверсий {mean} (95 %: {low}–{high})</numerusform>
            <numerusform>За %n прогона: конверсий {mean} (95 %: {low}–{high})</numerusform>
            <numerusform>За %n прогонов: конверсий {mean} (95 %: {low}–{high})</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Summary</name>
    <message>
        <source>unknown product ‘{id}’</source>
        <translation>неизвестный продукт «{id}»</translation>
    </message>
    <message>
        <source>Wait {time}</source>
        <translation>Ждать {time}</translation>
    </message>
    <message>
        <source>Wait {time} for {event}</source>
        <translation>Ждать {time}: {event}</translation>
    </message>
    <message numerus="yes">
        <source>%n case(s) + else</source>
        <translation>
            <numerusform>%n вариант + иначе</numerusform>
            <numerusform>%n варианта + иначе</numerusform>
            <numerusform>%n вариантов + иначе</numerusform>
        </translation>
    </message>
    <message>
        <source>When {event}</source>
        <translation>Когда: {event}</translation>
    </message>
    <message>
        <source>Webhook</source>
        <translation>Вебхук</translation>
    </message>
    <message>
        <source>Notify manager</source>
        <translation>Уведомить менеджера</translation>
    </message>
    <message>
        <source>CRM task</source>
        <translation>Задача в CRM</translation>
    </message>
    <message>
        <source>Unknown type ‘{type}’</source>
        <translation>Неизвестный тип «{type}»</translation>
    </message>
    <message>
        <source>Until {hours}</source>
        <translation>До окна {hours}</translation>
    </message>
    <message>
        <source>Wait for {event}, no timeout</source>
        <translation>Ждать: {event}, без таймаута</translation>
    </message>
    <message>
        <source>else only</source>
        <translation>только «иначе»</translation>
    </message>
    <message>
        <source>All contacts</source>
        <translation>Все контакты</translation>
    </message>
    <message>
        <source>unknown action ‘{action}’</source>
        <translation>неизвестное действие «{action}»</translation>
    </message>
    <message>
        <source>Notify</source>
        <translation>Уведомить</translation>
    </message>
    <message>
        <source>Handed to {id}</source>
        <translation>Передан в {id}</translation>
    </message>
    <message>
        <source>unknown outcome ‘{outcome}’</source>
        <translation>неизвестный итог «{outcome}»</translation>
    </message>
    <message>
        <source>(no text)</source>
        <translation>(без текста)</translation>
    </message>
    <message>
        <source>no product</source>
        <translation>нет продукта</translation>
    </message>
    <message>
        <source>Until {days} {hours}</source>
        <translation>До окна {days} {hours}</translation>
    </message>
    <message>
        <source>no condition</source>
        <translation>нет условия</translation>
    </message>
    <message>
        <source>no variants</source>
        <translation>нет вариантов</translation>
    </message>
    <message>
        <source>When {event} ? days</source>
        <translation>Когда: {event} ? дн.</translation>
    </message>
    <message numerus="yes">
        <source>When {event} {n} day(s)</source>
        <translation>
            <numerusform>Когда: {event} {n} день</numerusform>
            <numerusform>Когда: {event} {n} дня</numerusform>
            <numerusform>Когда: {event} {n} дней</numerusform>
        </translation>
    </message>
    <message>
        <source>Add tag {tag}</source>
        <translation>Добавить тег {tag}</translation>
    </message>
    <message>
        <source>Remove tag {tag}</source>
        <translation>Снять тег {tag}</translation>
    </message>
    <message>
        <source>Set {name} = {value}</source>
        <translation>Задать {name} = {value}</translation>
    </message>
    <message>
        <source>CRM stage → {value}</source>
        <translation>Этап CRM → {value}</translation>
    </message>
    <message>
        <source>no text</source>
        <translation>нет текста</translation>
    </message>
    <message>
        <source>cannot read condition</source>
        <translation>условие не читается</translation>
    </message>
</context>
<context>
    <name>Template</name>
    <message>
        <source>the end of the template</source>
        <translation>конец шаблона</translation>
    </message>
    <message>
        <source>‘{name}’ is known only in a Product offer step; this step offers no product — write the product&apos;s name in the text, or make the step an offer</source>
        <translation>«{name}» известно только в шаге «Предложение продукта»; этот шаг продукт не предлагает — впишите название продукта в текст или сделайте шаг предложением</translation>
    </message>
    <message>
        <source>‘{name}’ is not a template variable; use one of: {names}</source>
        <translation>«{name}» — не переменная шаблона; используйте одну из: {names}</translation>
    </message>
    <message>
        <source>‘contact.{field}’ is not a contact field; custom attributes are read as contact.attributes.{field}</source>
        <translation>«contact.{field}» — не поле контакта; свои атрибуты читаются как contact.attributes.{field}</translation>
    </message>
    <message>
        <source>the template could not be filled in: {error}</source>
        <translation>шаблон не удалось заполнить: {error}</translation>
    </message>
    <message>
        <source>line {line}: {message}</source>
        <translation>строка {line}: {message}</translation>
    </message>
    <message>
        <source>the tag is not closed — add &quot;${closer}&quot;</source>
        <translation>тег не закрыт — добавьте &quot;${closer}&quot;</translation>
    </message>
    <message>
        <source>‘{name}’ is not a template variable — did you mean ‘{close}’?</source>
        <translation>«{name}» — не переменная шаблона; может быть, «{close}»?</translation>
    </message>
    <message>
        <source>‘{field}’ is a custom attribute — write contact.attributes.{field}</source>
        <translation>«{field}» — свой атрибут: пишите contact.attributes.{field}</translation>
    </message>
    <message>
        <source>‘contact.{field}’ is not a contact field — did you mean ‘contact.{close}’?</source>
        <translation>«contact.{field}» — не поле контакта; может быть, «contact.{close}»?</translation>
    </message>
    <message>
        <source>the template tried something that is not allowed: {error}</source>
        <translation>шаблон попытался сделать недопустимое: {error}</translation>
    </message>
    <message>
        <source>division by zero</source>
        <translation>деление на ноль</translation>
    </message>
    <message>
        <source>using ‘{name}’</source>
        <translation>использование «{name}»</translation>
    </message>
    <message>
        <source>‘{path}’ is not set for this contact</source>
        <translation>«{path}» не задано для этого контакта</translation>
    </message>
    <message>
        <source>‘{path}’ is not set</source>
        <translation>«{path}» не задано</translation>
    </message>
    <message>
        <source>money: ‘{value}’ is not an amount</source>
        <translation>money: «{value}» — не сумма</translation>
    </message>
    <message>
        <source>the tag is not closed — add &quot;}}&quot;</source>
        <translation>тег не закрыт — добавьте &quot;}}&quot;</translation>
    </message>
    <message>
        <source>the tag is not closed — add &quot;%}&quot;</source>
        <translation>тег не закрыт — добавьте &quot;%}&quot;</translation>
    </message>
    <message>
        <source>the template ends inside a tag — close it with &quot;}}&quot; or &quot;%}&quot;</source>
        <translation>шаблон заканчивается внутри тега — закройте его &quot;}}&quot; или &quot;%}&quot;</translation>
    </message>
    <message>
        <source>{% ${block} %} is not closed — add {% end${block} %}</source>
        <translation>{% ${block} %} не закрыт — добавьте {% end${block} %}</translation>
    </message>
    <message>
        <source>{% ${tag} %} does not belong here: {% ${block} %} is still open — close it with {% end${block} %}</source>
        <translation>{% ${tag} %} здесь не к месту: {% ${block} %} ещё не закрыт — закройте его через {% end${block} %}</translation>
    </message>
    <message>
        <source>{% ${tag} %} has no matching opening tag</source>
        <translation>у {% ${tag} %} нет парного открывающего тега</translation>
    </message>
    <message>
        <source>there is no tag {% ${tag} %}</source>
        <translation>тега {% ${tag} %} не существует</translation>
    </message>
    <message>
        <source>there is no filter ‘${name}’</source>
        <translation>фильтра «${name}» не существует</translation>
    </message>
    <message>
        <source>there is no test ‘${name}’</source>
        <translation>проверки «${name}» не существует</translation>
    </message>
    <message>
        <source>unexpected ‘${found}’ — is &quot;}}&quot; missing before it?</source>
        <translation>неожиданное «${found}» — не пропущено ли &quot;}}&quot; перед ним?</translation>
    </message>
    <message>
        <source>unexpected ‘${found}’ — is &quot;%}&quot; missing before it?</source>
        <translation>неожиданное «${found}» — не пропущено ли &quot;%}&quot; перед ним?</translation>
    </message>
    <message>
        <source>a value is missing before ‘${found}’</source>
        <translation>перед «${found}» не хватает значения</translation>
    </message>
    <message>
        <source>a quoted text is not closed — add the closing ${quote}</source>
        <translation>текст в кавычках не закрыт — добавьте закрывающую ${quote}</translation>
    </message>
    <message>
        <source>‘${char}’ cannot be used here</source>
        <translation>«${char}» здесь использовать нельзя</translation>
    </message>
    <message>
        <source>a bracket is not closed — add &quot;${closer}&quot;</source>
        <translation>скобка не закрыта — добавьте &quot;${closer}&quot;</translation>
    </message>
    <message>
        <source>unexpected ‘${found}’</source>
        <translation>неожиданное «${found}»</translation>
    </message>
    <message>
        <source>the comment is not closed — add &quot;#}&quot;</source>
        <translation>комментарий не закрыт — добавьте &quot;#}&quot;</translation>
    </message>
    <message>
        <source>{% raw %} is not closed — add {% endraw %}</source>
        <translation>{% raw %} не закрыт — добавьте {% endraw %}</translation>
    </message>
    <message>
        <source>a name is missing after &quot;.&quot;</source>
        <translation>после &quot;.&quot; не хватает имени</translation>
    </message>
    <message>
        <source>a tag name is missing after &quot;{%&quot;</source>
        <translation>после &quot;{%&quot; не хватает имени тега</translation>
    </message>
</context>
<context>
    <name>TemplateCard</name>
    <message>
        <source>Open an untitled copy of “{name}”</source>
        <translation>Открыть копию без названия: «{name}»</translation>
    </message>
</context>
<context>
    <name>TemplateEditor</name>
    <message>
        <source>e.g. Hi {{ contact.first_name }}</source>
        <translation>например: Здравствуйте, {{ contact.first_name }}</translation>
    </message>
</context>
<context>
    <name>TimeEditor</name>
    <message>
        <source>HH:MM</source>
        <translation>ЧЧ:ММ</translation>
    </message>
    <message>
        <source>Write the time as HH:MM, e.g. 09:30</source>
        <translation>Укажите время как ЧЧ:ММ, например 09:30</translation>
    </message>
</context>
<context>
    <name>Undo</name>
    <message>
        <source>Connect {source} {exit} → {target}</source>
        <translation>Соединить {source} {exit} → {target}</translation>
    </message>
    <message>
        <source>Move {step}</source>
        <translation>Переместить {step}</translation>
    </message>
    <message numerus="yes">
        <source>Move %n step(s)</source>
        <translation>
            <numerusform>Переместить %n шаг</numerusform>
            <numerusform>Переместить %n шага</numerusform>
            <numerusform>Переместить %n шагов</numerusform>
        </translation>
    </message>
    <message>
        <source>Change {field} of {step}</source>
        <translation>Изменить «{field}» в {step}</translation>
    </message>
    <message>
        <source>Rename {step}</source>
        <translation>Переименовать {step}</translation>
    </message>
</context>
<context>
    <name>V101</name>
    <message>
        <source>The scenario has no entry: add a Segment entry or an Event trigger so contacts can come in</source>
        <translation>В сценарии нет входа: добавьте «Вход сегмента» или «Триггер-событие», чтобы контакты могли войти</translation>
    </message>
</context>
<context>
    <name>V102</name>
    <message>
        <source>{step} has no step after *{exit}*: {who} go nowhere</source>
        <translation>У шага {step} нет продолжения после *{exit}*: в никуда уходят {who}</translation>
    </message>
</context>
<context>
    <name>V103</name>
    <message numerus="yes">
        <source>*{exit}* of {step} leads to %n steps; a contact can only take one way — use an A/B split to divide contacts</source>
        <translation>
            <numerusform>Выход *{exit}* шага {step} ведёт к %n шагу; контакт может пойти только одним путём — чтобы разделить контакты, используйте A/B-сплит</numerusform>
            <numerusform>Выход *{exit}* шага {step} ведёт к %n шагам; контакт может пойти только одним путём — чтобы разделить контакты, используйте A/B-сплит</numerusform>
            <numerusform>Выход *{exit}* шага {step} ведёт к %n шагам; контакт может пойти только одним путём — чтобы разделить контакты, используйте A/B-сплит</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>V104</name>
    <message>
        <source>{step} is an entry and cannot be entered from another step; remove the connection from ‘{source}’</source>
        <translation>Шаг {step} — точка входа, в неё нельзя попасть из другого шага; удалите связь из «{source}»</translation>
    </message>
    <message>
        <source>{step} is a note or frame and cannot be entered from another step; remove the connection from ‘{source}’</source>
        <translation>Шаг {step} — заметка или рамка, в него нельзя попасть из другого шага; удалите связь из «{source}»</translation>
    </message>
</context>
<context>
    <name>V105</name>
    <message>
        <source>A connection {source}.{exit} → {target} names ‘{missing}’, which does not exist</source>
        <translation>Связь {source}.{exit} → {target} указывает на «{missing}», которого нет</translation>
    </message>
</context>
<context>
    <name>V106</name>
    <message>
        <source>{step} has no exit ‘{exit}’ (its exits: {exits}); reconnect or remove that connection</source>
        <translation>У шага {step} нет выхода «{exit}» (его выходы: {exits}); переподключите или удалите эту связь</translation>
    </message>
</context>
<context>
    <name>V107</name>
    <message>
        <source>No contact can reach {step}: no path from an entry leads to it</source>
        <translation>Ни один контакт не дойдёт до шага {step}: к нему не ведёт ни один путь от входа</translation>
    </message>
</context>
<context>
    <name>V108</name>
    <message>
        <source>Contacts who reach {step} can never leave: no path from it leads to an Exit (they loop forever)</source>
        <translation>Контакты, дошедшие до шага {step}, никогда не выйдут: от него ни один путь не ведёт к «Выходу» (они ходят по кругу бесконечно)</translation>
    </message>
    <message>
        <source>Contacts who reach {step} can never leave: no path from it leads to an Exit</source>
        <translation>Контакты, дошедшие до шага {step}, никогда не выйдут: от него ни один путь не ведёт к «Выходу»</translation>
    </message>
</context>
<context>
    <name>V109</name>
    <message>
        <source>Contacts would loop instantly and forever through {steps}: add a Wait or Wait for event inside the loop</source>
        <translation>Контакты мгновенно и бесконечно зациклятся на шагах {steps}: добавьте в цикл «Паузу» или «Ожидание события»</translation>
    </message>
</context>
<context>
    <name>V110</name>
    <message>
        <source>{step} has no step after *{exit}*: contacts matching none of its cases go nowhere</source>
        <translation>У шага {step} нет продолжения после *{exit}*: контакты, не подошедшие ни под один вариант, уходят в никуда</translation>
    </message>
</context>
<context>
    <name>V111</name>
    <message>
        <source>{step} needs at least two variants to split contacts</source>
        <translation>Чтобы разделить контакты, шагу {step} нужно не меньше двух вариантов</translation>
    </message>
    <message>
        <source>The weights of {step} add up to {total:g}, not 100</source>
        <translation>Сумма весов в шаге {step} равна {total:g}, а не 100</translation>
    </message>
    <message>
        <source>Variant ‘{variant}’ of {step} has weight {weight}: every variant needs a weight above 0</source>
        <translation>У варианта «{variant}» в шаге {step} вес {weight}: каждому варианту нужен вес больше 0</translation>
    </message>
</context>
<context>
    <name>V112</name>
    <message>
        <source>Case {index} of {step} has no id</source>
        <translation>У варианта {index} в шаге {step} нет id</translation>
    </message>
    <message>
        <source>Variant {index} of {step} has no id</source>
        <translation>У варианта сплита {index} в шаге {step} нет id</translation>
    </message>
    <message>
        <source>{step} has no list of cases</source>
        <translation>У шага {step} нет списка вариантов</translation>
    </message>
    <message>
        <source>{step} has no list of variants</source>
        <translation>У шага {step} нет списка вариантов сплита</translation>
    </message>
    <message>
        <source>{step} has a case with the id ‘else’, which is reserved for contacts matching no case; rename the case</source>
        <translation>У шага {step} есть вариант с id «else», а он зарезервирован для контактов, не подошедших ни под один вариант; переименуйте вариант</translation>
    </message>
    <message>
        <source>{step} uses the id ‘{id}’ twice; each case or variant needs its own exit</source>
        <translation>Шаг {step} использует id «{id}» дважды; у каждого варианта должен быть свой выход</translation>
    </message>
</context>
<context>
    <name>V113</name>
    <message>
        <source>{step} has no timeout: contacts without ‘{event}’ would wait forever</source>
        <translation>У шага {step} нет таймаута: контакты без события «{event}» будут ждать вечно</translation>
    </message>
</context>
<context>
    <name>V114</name>
    <message>
        <source>‘{value}’ is not a time; write it as HH:MM</source>
        <translation>«{value}» — не время; пишите в виде ЧЧ:ММ</translation>
    </message>
    <message>
        <source>Scenario settings, frequency cap period: {error}</source>
        <translation>Настройки сценария, период лимита частоты: {error}</translation>
    </message>
</context>
<context>
    <name>V115</name>
    <message>
        <source>{step} has the unknown type ‘{type}’ (made by a newer Voronka?); it is kept but cannot run — replace it with a known step</source>
        <translation>У шага {step} неизвестный тип «{type}» (создан более новой версией «Воронки»?); шаг сохранён, но выполняться не может — замените его известным шагом</translation>
    </message>
</context>
<context>
    <name>V116</name>
    <message>
        <source>‘{value}’ is not one of {choices}</source>
        <translation>«{value}» — не одно из значений: {choices}</translation>
    </message>
    <message>
        <source>{value} is not a number</source>
        <translation>{value} — не число</translation>
    </message>
    <message>
        <source>{value:g} is out of range (from {low:g})</source>
        <translation>{value:g} вне допустимого диапазона (от {low:g})</translation>
    </message>
    <message>
        <source>{value:g} is out of range (from {low:g} to {high:g})</source>
        <translation>{value:g} вне допустимого диапазона (от {low:g} до {high:g})</translation>
    </message>
</context>
<context>
    <name>V201</name>
    <message>
        <source>the condition is empty</source>
        <translation>условие пустое</translation>
    </message>
</context>
<context>
    <name>V204</name>
    <message>
        <source>{step} does not say which event</source>
        <translation>В шаге {step} не указано событие</translation>
    </message>
    <message>
        <source>{step} uses the event ‘{event}’, which the contact database does not know</source>
        <translation>Шаг {step} использует событие «{event}», которого нет в базе контактов</translation>
    </message>
</context>
<context>
    <name>V205</name>
    <message>
        <source>{step} offers no product: choose one</source>
        <translation>Шаг {step} не предлагает продукт: выберите его</translation>
    </message>
    <message>
        <source>{step} offers ‘{product}’, which is not in the scenario&apos;s products</source>
        <translation>Шаг {step} предлагает «{product}», которого нет среди продуктов сценария</translation>
    </message>
</context>
<context>
    <name>V206</name>
    <message>
        <source>{step} has the unknown channel ‘{channel}’; choose one of {choices}</source>
        <translation>У шага {step} неизвестный канал «{channel}»; выберите один из: {choices}</translation>
    </message>
    <message>
        <source>{step} has no channel; choose one of {choices}</source>
        <translation>У шага {step} не задан канал; выберите один из: {choices}</translation>
    </message>
    <message>
        <source>{step} has no text to send</source>
        <translation>У шага {step} нет текста для отправки</translation>
    </message>
</context>
<context>
    <name>V207</name>
    <message>
        <source>{step} gives {discount:g} % off, above the scenario&apos;s limit of {limit:g} %</source>
        <translation>Шаг {step} даёт скидку {discount:g} %, выше лимита сценария в {limit:g} %</translation>
    </message>
</context>
<context>
    <name>V301</name>
    <message>
        <source>{step} can be message number {count} within {period}, above the frequency cap of {cap}: add a wait before it</source>
        <translation>Шаг {step} может оказаться сообщением № {count} за {period} — больше лимита частоты ({cap}): добавьте перед ним паузу</translation>
    </message>
</context>
<context>
    <name>V302</name>
    <message>
        <source>{step} can go out during quiet hours ({start}–{end}): put a Wait until a send window on the way to it</source>
        <translation>Сообщение {step} может уйти в тихие часы ({start}–{end}): поставьте перед ним «Паузу» до окна отправки</translation>
    </message>
</context>
<context>
    <name>V303</name>
    <message>
        <source>{step} is followed only by an Exit: it just delays leaving; remove it</source>
        <translation>После шага {step} идёт только «Выход»: пауза лишь откладывает выход; удалите её</translation>
    </message>
</context>
<context>
    <name>V401</name>
    <message>
        <source>the conditions contacts passed before already rule it out</source>
        <translation>его исключают условия, которые контакты прошли раньше</translation>
    </message>
</context>
<context>
    <name>V402</name>
    <message>
        <source>its condition can never lead there, for any contact</source>
        <translation>условие не ведёт туда ни для одного контакта</translation>
    </message>
    <message>
        <source>Nobody ever enters through ‘{step}’: its condition is always false</source>
        <translation>Через вход «{step}» никто не войдёт: его условие всегда ложно</translation>
    </message>
    <message>
        <source>the condition is always false</source>
        <translation>условие всегда ложно</translation>
    </message>
    <message>
        <source>the condition is always true</source>
        <translation>условие всегда истинно</translation>
    </message>
</context>
<context>
    <name>V403</name>
    <message>
        <source>Cases ‘{earlier}’ and ‘{later}’ of ‘{step}’ overlap: contacts matching both always go to ‘{earlier}’ (cases are checked in order); make the conditions exclusive</source>
        <translation>Варианты «{earlier}» и «{later}» в шаге «{step}» пересекаются: контакты, подходящие под оба, всегда уходят в «{earlier}» (варианты проверяются по порядку); сделайте условия взаимоисключающими</translation>
    </message>
</context>
<context>
    <name>V501</name>
    <message>
        <source>No path ends at an Exit with outcome ‘{outcome}’: the funnel never counts a success</source>
        <translation>Ни один путь не заканчивается «Выходом» с итогом «{outcome}»: воронка никогда не засчитает успех</translation>
    </message>
</context>
<context>
    <name>V502</name>
    <message>
        <source>When {step} fails, the contact leaves at once, though it may be reachable by {channels}: try another channel before giving up</source>
        <translation>Если сообщение {step} не доставлено, контакт сразу уходит, хотя до него, возможно, можно достучаться через {channels}: попробуйте другой канал, прежде чем сдаваться</translation>
    </message>
</context>
<context>
    <name>VariantsEditor</name>
    <message>
        <source>Even</source>
        <translation>Поровну</translation>
    </message>
    <message>
        <source>Give every variant the same weight</source>
        <translation>Дать всем вариантам одинаковый вес</translation>
    </message>
    <message>
        <source>Sum: {total} %</source>
        <translation>Сумма: {total} %</translation>
    </message>
    <message>
        <source>The weights must add up to 100 %</source>
        <translation>Сумма весов должна быть 100 %</translation>
    </message>
</context>
<context>
    <name>Weekday</name>
    <message>
        <source>Mon</source>
        <translation>Пн</translation>
    </message>
    <message>
        <source>Tue</source>
        <translation>Вт</translation>
    </message>
    <message>
        <source>Wed</source>
        <translation>Ср</translation>
    </message>
    <message>
        <source>Thu</source>
        <translation>Чт</translation>
    </message>
    <message>
        <source>Fri</source>
        <translation>Пт</translation>
    </message>
    <message>
        <source>Sat</source>
        <translation>Сб</translation>
    </message>
    <message>
        <source>Sun</source>
        <translation>Вс</translation>
    </message>
</context>
<context>
    <name>Welcome</name>
    <message>
        <source>Qualification</source>
        <translation>Квалификация</translation>
    </message>
    <message>
        <source>Pre-sales</source>
        <translation>Продажа</translation>
    </message>
    <message>
        <source>Active base</source>
        <translation>Активная база</translation>
    </message>
    <message>
        <source>Win-back</source>
        <translation>Реактивация</translation>
    </message>
    <message>
        <source>Post-sales</source>
        <translation>После продажи</translation>
    </message>
</context>
<context>
    <name>WelcomeWindow</name>
    <message>
        <source>Welcome — Voronka</source>
        <translation>Добро пожаловать — «Воронка»</translation>
    </message>
    <message>
        <source>Voronka</source>
        <translation>Воронка</translation>
    </message>
    <message>
        <source>Design auto-funnels where every exit is handled.</source>
        <translation>Проектируйте автоворонки, в которых обработан каждый выход.</translation>
    </message>
    <message>
        <source>+  New empty funnel</source>
        <translation>+  Новая пустая воронка</translation>
    </message>
    <message>
        <source>Open…</source>
        <translation>Открыть…</translation>
    </message>
    <message>
        <source>Funnels you open or save will be listed here.</source>
        <translation>Здесь появятся воронки, которые вы откроете или сохраните.</translation>
    </message>
    <message>
        <source>What is an auto-funnel?</source>
        <translation>Что такое автоворонка?</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>Настройки…</translation>
    </message>
    <message>
        <source>RECENT</source>
        <translation>НЕДАВНИЕ</translation>
    </message>
    <message>
        <source>Start from a template</source>
        <translation>Начните с шаблона</translation>
    </message>
    <message>
        <source>Each template is a complete, validated funnel. It opens as an untitled copy: change anything, then save it wherever you like.</source>
        <translation>Каждый шаблон — готовая проверенная воронка. Он открывается как копия без названия: меняйте что угодно и сохраняйте куда удобно.</translation>
    </message>
    <message>
        <source>FUNNELS BY GOAL</source>
        <translation>ВОРОНКИ ПО ЦЕЛЯМ</translation>
    </message>
    <message>
        <source>TRIGGERS AND THE PRODUCT MATRIX</source>
        <translation>ТРИГГЕРЫ И ПРОДУКТОВАЯ МАТРИЦА</translation>
    </message>
    <message>
        <source>Cannot create the demo database</source>
        <translation>Не удаётся создать демо-базу</translation>
    </message>
</context>
<context>
    <name>Words</name>
    <message>
        <source>The *{exit}* exit of ‘{step}’ is never taken: {why}</source>
        <translation>Выход *{exit}* шага «{step}» никогда не срабатывает: {why}</translation>
    </message>
    <message>
        <source>{step}, {field}: {what}</source>
        <translation>{step}, {field}: {what}</translation>
    </message>
    <message>
        <source>{first} or {second}</source>
        <translation>{first} или {second}</translation>
    </message>
    <message>
        <source>the event</source>
        <translation>событие</translation>
    </message>
    <message>
        <source>none</source>
        <translation>нет</translation>
    </message>
    <message>
        <source>Condition</source>
        <translation>условие</translation>
    </message>
    <message>
        <source>case ‘{case}’</source>
        <translation>вариант «{case}»</translation>
    </message>
</context>
<context>
    <name>_Header</name>
    <message>
        <source>Unknown step type ‘{type}’</source>
        <translation>Неизвестный тип шага «{type}»</translation>
    </message>
    <message>
        <source>Placeholder</source>
        <translation>Заглушка</translation>
    </message>
    <message>
        <source>{kind} · id {id}</source>
        <translation>{kind} · id {id}</translation>
    </message>
</context>
</TS>
